"""A folder of a thousand small files is indexed whole."""

from index.store import load_stored
from test_bad_input import build, synthetic_bulletin  # from tests/unit


def test_a_folder_of_a_thousand_small_files(tmp_path, fake_embedder):
    folder = tmp_path / "many"
    for n in range(1000):
        sub = folder / f"{n // 100:02d}"  # nested folders, as archives are
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"bulletin-{n:04d}.txt").write_text(synthetic_bulletin(n), encoding="utf-8")
    report = build([folder], tmp_path / "index", fake_embedder)
    assert not report.failed
    assert [f.status for f in report.files].count("added") == 1000
    stored = load_stored(tmp_path / "index")
    assert len(stored.bulletins) == 1000 and len(stored.chunks) == 1000 == stored.faiss_index.ntotal
    assert {c.meta.title for c in stored.chunks} >= {
        "成都市召开第0次史志工作会议",
        "南充市召开第999次史志工作会议",
    }
