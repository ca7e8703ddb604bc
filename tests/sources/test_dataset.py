"""The dataset layout: which files' address ids a run may use."""

from sentinel.sources.dataset import address_table_path, root_of, shared_address_table


def _dataset(root, days=("2024-01-01", "2024-01-02"), table=True):
    files = []
    for day in days:
        (root / f"day={day}").mkdir(parents=True)
        files.append(root / f"day={day}" / "part-1.parquet")
        files[-1].write_bytes(b"")
    if table:
        address_table_path(root).parent.mkdir(parents=True)
        address_table_path(root).write_bytes(b"")
    return [str(f) for f in files]


def test_files_of_one_dataset_share_its_address_table(tmp_path):
    files = _dataset(tmp_path / "ds")
    assert root_of(files[0]) == str(tmp_path / "ds")
    assert shared_address_table(files) == str(address_table_path(tmp_path / "ds"))


def test_no_table_for_files_of_two_datasets_moved_files_or_a_dataset_without_ids(tmp_path):
    one = _dataset(tmp_path / "one")
    two = _dataset(tmp_path / "two")
    assert shared_address_table([one[0], two[0]]) is None
    loose = tmp_path / "part.parquet"
    loose.write_bytes(b"")
    assert root_of(str(loose)) is None and shared_address_table([str(loose)]) is None
    assert shared_address_table(_dataset(tmp_path / "old", table=False)) is None
    assert shared_address_table([one[0], str(loose)]) is None


def test_the_address_table_of_a_dataset_named_by_uri_is_beside_its_day_partitions():
    from sentinel.sources.dataset import address_table_uri

    table = "hdfs:///flows/ds/_sentinel/addresses.parquet"
    for uri in (
        "hdfs:///flows/ds",
        "hdfs:///flows/ds/",
        "hdfs:///flows/ds/day=2024-01-01",
        "hdfs:///flows/ds/day=2024-01-01/",
    ):
        assert address_table_uri(uri) == table
    assert address_table_uri("s3a://b/day=x") == "s3a://b/day=x/_sentinel/addresses.parquet"  # not a day partition
