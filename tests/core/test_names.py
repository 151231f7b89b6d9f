from tuition.core.names import sort_key


def test_class_lists_sort_by_given_name_in_vietnamese_order():
    names = ["Lê Bảo Ngọc", "Nguyễn Thị Ánh Dương", "Trần Văn Đạt", "Phạm Thị An",
             "Võ Minh Ân", "Hồ Gia Ăn", "Đỗ Văn Dũng", "Ngô Thị Ơn", "Bùi Văn Ôn", "Lý Văn On"]
    assert sorted(names, key=sort_key) == [
        "Phạm Thị An", "Hồ Gia Ăn", "Võ Minh Ân", "Đỗ Văn Dũng", "Nguyễn Thị Ánh Dương",
        "Trần Văn Đạt", "Lê Bảo Ngọc", "Lý Văn On", "Bùi Văn Ôn", "Ngô Thị Ơn",
    ]


def test_same_given_name_orders_by_family_name_then_tone():
    assert sorted(["Trần An", "Lê An", "Lê Án", "Lê Àn"], key=sort_key) == [
        "Lê An", "Lê Àn", "Lê Án", "Trần An"]
