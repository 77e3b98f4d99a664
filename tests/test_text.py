"""Vietnamese text: NFC, folding, collation a Vietnamese reader expects."""

import unicodedata

from budgetlib import fold, nfc, vi_sort_key


def test_nfc_makes_composed_and_decomposed_equal():
    decomposed = unicodedata.normalize("NFD", "Thuỷ Nguyên")
    assert decomposed != "Thuỷ Nguyên"
    assert nfc(decomposed) == "Thuỷ Nguyên"


def test_fold_strips_diacritics_and_d_bar():
    assert fold("  Địa   Bàn ") == "dia ban"
    assert fold("Chỉ tiêu") == fold("chi tieu")


def test_alphabet_order_not_code_point_order():
    names = ["Đồng Hới", "Ba Vì", "Ân Thi", "An Lão", "Ăn Khê", "Ô Môn", "Ơ Rê", "Ưu Đàm", "Uông Bí", "Dương Kinh", "Zê"]
    assert sorted(names, key=vi_sort_key) == [
        "An Lão", "Ăn Khê", "Ân Thi", "Ba Vì", "Dương Kinh", "Đồng Hới", "Ô Môn", "Ơ Rê", "Uông Bí", "Ưu Đàm", "Zê",
    ]
    # Python's default order puts Đ and Ư after Z
    assert sorted(names)[-1] != "Zê"


def test_tones_break_ties_only():
    assert sorted(["má", "ma", "mà", "mạ", "mả", "mã"], key=vi_sort_key) == ["ma", "mà", "mả", "mã", "má", "mạ"]
    assert sorted(["mã b", "ma c"], key=vi_sort_key) == ["mã b", "ma c"]


def test_numbers_sort_as_numbers():
    assert sorted(["Phường 10", "Phường 2", "Phường 1", "Phường An Hòa"], key=vi_sort_key) == [
        "Phường 1", "Phường 2", "Phường 10", "Phường An Hòa"]
