"""tuition: cashless school-fee collection for Vietnamese schools."""

__version__ = "0.1.0"
