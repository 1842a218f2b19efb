"""The replay benchmark's files: the 24-month files cut at a month keep the official layout."""

from pathlib import Path

import pytest
from django.conf import settings

from tests.load.bench_releases import (
    MPS_DIR,
    RECENT,
    cut_csv,
    cut_data_dir,
    month_columns,
    tree_kb,
)


def test_a_cut_keeps_names_quoting_and_line_endings(tmp_path):
    source = tmp_path / "ward.csv"
    source.write_bytes(
        b"MajorText,MinorText,WardName,WardCode,202404,202405,202406\r\n"
        b'BURGLARY,RES BURGLARY OF A HOME,"Bromley Common, Holwood",E05013999,1,2,3\r\n'
        b"ROBBERY,ROBBERY OF PERSONAL PROPERTY,Abbey,E05000026,4,5,6\r\n"
    )

    cut_csv(source, tmp_path / "cut.csv", last="202405")

    assert (tmp_path / "cut.csv").read_bytes() == (
        b"MajorText,MinorText,WardName,WardCode,202404,202405\r\n"
        b'BURGLARY,RES BURGLARY OF A HOME,"Bromley Common, Holwood",E05013999,1,2\r\n'
        b"ROBBERY,ROBBERY OF PERSONAL PROPERTY,Abbey,E05000026,4,5\r\n"
    )


def test_a_cell_that_is_not_a_count_stops_the_cut(tmp_path):
    source = tmp_path / "lsoa.csv"
    source.write_text('LSOA Code,Major Category,202404,202405\nE01000001,BURGLARY,1,"2"\n')

    with pytest.raises(ValueError, match="line 2: a month cell is not a count"):
        cut_csv(source, tmp_path / "cut.csv", last="202404")


def test_the_real_files_cut_at_their_last_month_are_unchanged(tmp_path):
    source = Path(settings.CRIMEMAP_DATA_DIR)
    for name in RECENT:
        path = source / MPS_DIR / name
        cut_csv(path, tmp_path / name, last=month_columns(path)[-1])
        assert (tmp_path / name).read_bytes() == path.read_bytes(), name


def test_the_mirror_links_everything_but_the_cut_files(tmp_path):
    source = Path(settings.CRIMEMAP_DATA_DIR)

    cut_data_dir(source, tmp_path / "data", last="202505")

    data = tmp_path / "data"
    assert (data / "boundaries").is_symlink() and (data / "crime" / "police-uk").is_symlink()
    assert (data / MPS_DIR / "MPS Ward Level Crime (Historical).csv").is_symlink()
    for name in RECENT:
        cut = data / MPS_DIR / name
        assert not cut.is_symlink() and month_columns(cut)[-1] == "202505", name
    ward = (data / MPS_DIR / RECENT[1]).read_bytes()
    assert ward.count(b"\r\n") == ward.count(b"\n") == 18_670  # CRLF kept, every row kept


def test_the_memory_of_a_process_tree_counts_this_process():
    import os

    assert tree_kb(os.getpid()) > 10_000  # this Python process alone is over 10 MB
