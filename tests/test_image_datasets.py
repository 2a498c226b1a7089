"""The image datasets, loaded from small files written in the real formats."""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from albench.builtin import image_datasets as images
from albench.builtin.image_datasets import CorruptDataError, DataNotFoundError, data_root
from albench.plugins import get_plugins

DATA_DIR = os.environ.get("ALBENCH_DATA_DIR")
"""Set by the environment or by tests/conftest.py (the shared datasets beside the clone)."""
SHARED_FASHION = Path(DATA_DIR) / "fashion-mnist" if DATA_DIR else None
IDX_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def load(name: str, **options):
    """Load through the plugin registry, as a run does."""
    return get_plugins().get("datasets", name).factory(**options)


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_set(folder: Path, seed: int = 0, n_train: int = 30, n_test: int = 12,
                  gz: bool = True) -> dict[str, np.ndarray]:
    """The four IDX files of an MNIST-like set in ``folder``; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for stem, array in arrays.items():
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(idx_bytes(array)))
        else:
            (folder / stem).write_bytes(idx_bytes(array))
    return arrays


def write_sha256sums(folder: Path) -> None:
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}"
             for p in sorted(folder.glob("*.gz"))]
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_all_image_datasets_are_registered():
    names = get_plugins().names("datasets")
    assert {"mnist", "fashion-mnist", "cifar10", "cifar100", "svhn"} <= set(names)


def test_data_root_order(tmp_path, monkeypatch):
    monkeypatch.delenv("ALBENCH_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_root() == tmp_path / "cache" / "albench" / "data"
    monkeypatch.setenv("ALBENCH_DATA_DIR", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert data_root(tmp_path / "option") == tmp_path / "option"


def test_mnist_in_torchvision_raw_layout(tmp_path):
    arrays = write_idx_set(tmp_path / "MNIST" / "raw")
    data = load("mnist", data_dir=str(tmp_path), download=False, verify=False)
    assert data.x_pool.shape == (30, 1, 28, 28) and data.x_pool.dtype == np.uint8
    assert data.x_test.shape == (12, 1, 28, 28)
    np.testing.assert_array_equal(data.x_pool[:, 0], arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(data.y_test, arrays["t10k-labels-idx1-ubyte"])
    expected = (arrays["train-images-idx3-ubyte"][:3, None] / 255.0 - 0.1307) / 0.3081
    np.testing.assert_allclose(data.inputs(data.x_pool[:3]).numpy(), expected, atol=1e-5)
    assert data.input_range == (0, 255)


def test_fashion_mnist_flat_layout_from_env_with_manifest(tmp_path, monkeypatch):
    folder = tmp_path / "fashion-mnist"
    arrays = write_idx_set(folder, seed=1)
    write_sha256sums(folder)
    monkeypatch.setenv("ALBENCH_DATA_DIR", str(tmp_path))
    data = load("fashion-mnist", download=False, verify=False)
    np.testing.assert_array_equal(data.y_pool, arrays["train-labels-idx1-ubyte"])
    assert data.classes[0] == "T-shirt/top"


def test_extracted_idx_files_are_read(tmp_path):
    arrays = write_idx_set(tmp_path / "mnist", seed=2, gz=False)
    data = load("mnist", data_dir=str(tmp_path), download=False, verify=False)
    np.testing.assert_array_equal(data.x_test[:, 0], arrays["t10k-images-idx3-ubyte"])


def test_standardize_false_divides_by_255_only(tmp_path):
    """The DAL study's preprocessing: ``x / 255``, no mean or standard deviation."""
    arrays = write_idx_set(tmp_path / "mnist", seed=3, gz=False)
    data = load("mnist", data_dir=str(tmp_path), download=False, verify=False,
                standardize=False)
    raw = arrays["train-images-idx3-ubyte"][:5]
    np.testing.assert_allclose(data.inputs(data.x_pool[:5]).numpy()[:, 0], raw / 255.0,
                               rtol=1e-6)
    standard = load("mnist", data_dir=str(tmp_path), download=False, verify=False)
    assert standard.mean == (0.1307,) and data.revision == standard.revision


def test_unofficial_files_fail_verification(tmp_path):
    write_idx_set(tmp_path / "MNIST" / "raw")
    with pytest.raises(CorruptDataError, match="train-images-idx3-ubyte.gz.*SHA-256"):
        load("mnist", data_dir=str(tmp_path), download=False)


def test_truncated_gz_names_the_file(tmp_path):
    write_idx_set(tmp_path / "MNIST" / "raw")
    truncate(tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(CorruptDataError, match="t10k-images-idx3-ubyte.gz"):
        load("mnist", data_dir=str(tmp_path), download=False, verify=False)


def test_truncated_extracted_idx_names_the_file(tmp_path):
    write_idx_set(tmp_path / "mnist", gz=False)
    truncate(tmp_path / "mnist" / "train-labels-idx1-ubyte")
    with pytest.raises(CorruptDataError, match="train-labels-idx1-ubyte.*truncated"):
        load("mnist", data_dir=str(tmp_path), download=False, verify=False)


def test_sha256sums_mismatch_is_an_error_even_unverified(tmp_path):
    folder = tmp_path / "fashion-mnist"
    write_idx_set(folder)
    write_sha256sums(folder)
    write_idx_set(folder, seed=5)  # same names, other content: the manifest is now stale
    with pytest.raises(CorruptDataError, match="SHA256SUMS"):
        load("fashion-mnist", data_dir=str(tmp_path), download=False, verify=False)


def test_missing_offline_says_where_and_how(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load("mnist", data_dir=str(tmp_path), download=False)
    message = str(info.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "--data-dir" in message and "ALBENCH_DATA_DIR" in message
    assert "train-images-idx3-ubyte" in message


def test_failed_download_is_one_clear_error(tmp_path, monkeypatch):
    import torchvision.datasets

    class Offline(torchvision.datasets.CIFAR10):
        def __init__(self, *args, **kwargs):
            raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", Offline)
    with pytest.raises(DataNotFoundError, match="download failed.*URLError") as info:
        load("cifar10", data_dir=str(tmp_path), download=True)
    assert str(tmp_path / "cifar-10-batches-py") in str(info.value)


def test_partial_folder_is_reported(tmp_path):
    write_idx_set(tmp_path / "mnist")
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataNotFoundError, match="has train-images"):
        load("mnist", data_dir=str(tmp_path), download=False)


def write_cifar(folder: Path, files: list[str], label_key: str, meta: tuple[str, dict],
                num_classes: int, per_file: int = 4, seed: int = 0) -> dict[str, tuple]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    written = {}
    for name in files:
        data = rng.integers(0, 256, (per_file, 3072), dtype=np.uint8)
        labels = rng.integers(0, num_classes, per_file).tolist()
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, label_key: labels, "batch_label": name}, f)
        written[name] = (data, labels)
    with open(folder / meta[0], "wb") as f:
        pickle.dump(meta[1], f)
    return written


def test_cifar10_batches(tmp_path):
    train = [f"data_batch_{i}" for i in range(1, 6)]
    names = [f"class{i}" for i in range(10)]
    written = write_cifar(tmp_path / "cifar-10-batches-py", train + ["test_batch"], "labels",
                          ("batches.meta", {"label_names": names}), 10)
    data = load("cifar10", data_dir=str(tmp_path), download=False, verify=False)
    assert data.x_pool.shape == (20, 3, 32, 32) and data.x_test.shape == (4, 3, 32, 32)
    first, labels = written["data_batch_1"]
    np.testing.assert_array_equal(data.x_pool[0, 2].reshape(-1), first[0, 2048:])  # blue
    np.testing.assert_array_equal(data.y_pool[:4], labels)
    assert data.classes == tuple(names) and data.num_classes == 10
    assert data.inputs(data.x_pool[:2]).shape == (2, 3, 32, 32)


def test_cifar100_fine_labels(tmp_path):
    names = [f"fine{i}" for i in range(100)]
    written = write_cifar(tmp_path / "cifar-100-python", ["train", "test"], "fine_labels",
                          ("meta", {"fine_label_names": names}), 100, per_file=6)
    data = load("cifar100", data_dir=str(tmp_path), download=False, verify=False)
    assert data.num_classes == 100 and len(data.classes) == 100
    np.testing.assert_array_equal(data.y_test, written["test"][1])


def test_cifar_checks_official_md5_and_truncation(tmp_path):
    train = [f"data_batch_{i}" for i in range(1, 6)]
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar(folder, train + ["test_batch"], "labels", ("batches.meta", {"label_names": []}),
                10)
    with pytest.raises(CorruptDataError, match="data_batch_1.*MD5"):
        load("cifar10", data_dir=str(tmp_path), download=False)
    truncate(folder / "data_batch_3")
    with pytest.raises(CorruptDataError, match="data_batch_3.*truncated"):
        load("cifar10", data_dir=str(tmp_path), download=False, verify=False)


def write_svhn(folder: Path, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.io import savemat

    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
    y = rng.integers(1, 11, (n, 1)).astype(np.uint8)  # 10 stands for the digit 0
    folder.mkdir(parents=True, exist_ok=True)
    savemat(folder / ("train_32x32.mat" if seed == 0 else "test_32x32.mat"), {"X": x, "y": y})
    return x, y


def test_svhn_mat_files(tmp_path):
    x, y = write_svhn(tmp_path / "svhn", 9, seed=0)
    write_svhn(tmp_path / "svhn", 5, seed=1)
    data = load("svhn", data_dir=str(tmp_path), download=False, verify=False)
    assert data.x_pool.shape == (9, 3, 32, 32) and data.x_test.shape == (5, 3, 32, 32)
    assert data.x_pool[4, 1, 7, 20] == x[7, 20, 1, 4]
    np.testing.assert_array_equal(data.y_pool, y.ravel() % 10)
    assert 0 <= data.y_pool.min() and data.y_pool.max() <= 9
    truncate(tmp_path / "svhn" / "test_32x32.mat")
    with pytest.raises(CorruptDataError, match="test_32x32.mat"):
        load("svhn", data_dir=str(tmp_path), download=False, verify=False)


def test_test_size_keeps_a_fixed_subset(tmp_path):
    write_idx_set(tmp_path / "mnist", n_test=40)
    full = load("mnist", data_dir=str(tmp_path), download=False, verify=False)
    small = load("mnist", data_dir=str(tmp_path), download=False, verify=False, test_size=10)
    again = load("mnist", data_dir=str(tmp_path), download=False, verify=False, test_size=10)
    assert small.x_test.shape[0] == 10
    np.testing.assert_array_equal(small.y_test, again.y_test)
    assert small.revision != full.revision


def test_known_checksums_match_torchvision():
    from torchvision import datasets

    assert images._CIFAR10_MD5 == {name: md5 for name, md5 in
                                   datasets.CIFAR10.train_list + datasets.CIFAR10.test_list} | {
        datasets.CIFAR10.meta["filename"]: datasets.CIFAR10.meta["md5"]}
    assert images._CIFAR100_MD5 == {name: md5 for name, md5 in
                                    datasets.CIFAR100.train_list + datasets.CIFAR100.test_list} | {
        datasets.CIFAR100.meta["filename"]: datasets.CIFAR100.meta["md5"]}
    assert images._SVHN_MD5 == {v[1]: v[2] for k, v in datasets.SVHN.split_list.items()
                                if k != "extra"}


@pytest.mark.data
@pytest.mark.skipif(SHARED_FASHION is None or not SHARED_FASHION.is_dir(),
                    reason="no fashion-mnist under ALBENCH_DATA_DIR")
def test_real_fashion_mnist_is_found_and_verified():
    data = load("fashion-mnist", download=False)
    assert data.x_pool.shape == (60000, 1, 28, 28) and data.x_test.shape == (10000, 1, 28, 28)
    assert np.bincount(data.y_pool).tolist() == [6000] * 10
    assert np.bincount(data.y_test).tolist() == [1000] * 10
    x = data.inputs(data.x_pool[::20]).numpy()
    assert abs(x.mean()) < 0.05 and abs(x.std() - 1) < 0.05
    assert data.revision == load("fashion-mnist", download=False).revision
