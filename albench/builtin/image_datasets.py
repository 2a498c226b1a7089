"""Image datasets: MNIST, Fashion-MNIST, CIFAR-10/100 and SVHN, read from their official files.

Files are looked for under a data root: the ``data_dir`` option, else ``ALBENCH_DATA_DIR``,
else ``$XDG_CACHE_HOME/albench/data`` (``~/.cache/albench/data``), in torchvision's layout
(``MNIST/raw``, ``FashionMNIST/raw``, ``cifar-10-batches-py``, ``cifar-100-python``, ``svhn``)
or flat (``mnist/``, ``fashion-mnist/`` holding the IDX files). Fashion-MNIST is also found in
Debian's ``/usr/share/datasets/fashion-mnist``. Missing files are downloaded with torchvision
when ``download`` is on; when that fails, :class:`DataNotFoundError` says where the files were
expected and how to get them.

Every file is checked against the known checksum of the official release (``verify=True``):
SHA-256 of the decompressed IDX content (so re-compressed copies, like Debian's, pass), MD5 of
the CIFAR batches and SVHN ``.mat`` files, and a ``SHA256SUMS`` file beside IDX files when
there is one. A truncated or altered file raises :class:`CorruptDataError` naming it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import struct
import zlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from albench import hookimpl
from albench.errors import AlbenchError
from albench.types import Dataset

DATA_DIR_ENV = "ALBENCH_DATA_DIR"

# SHA-256 of the decompressed official IDX files.
_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
_FASHION_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
# MD5 of the official files, as torchvision checks them.
_CIFAR10_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
_CIFAR100_MD5 = {
    "train": "16019d7e3df5f24257cddd939b257f8d",
    "test": "f0ef6b0ae62326f3e7ffdfab6717acfc",
    "meta": "7973b15100ade9c7d40fb424638fde48",
}
_SVHN_MD5 = {
    "train_32x32.mat": "e26dedcc434d2e4c54c9b2d4a06d8373",
    "test_32x32.mat": "eb5a983be6a315427106f1b164d9cef3",
}
_FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                    "Sneaker", "Bag", "Ankle boot")
_DIGITS = tuple(str(d) for d in range(10))


class DataNotFoundError(AlbenchError, FileNotFoundError):
    """A dataset's files are not on this machine and could not be downloaded."""


class CorruptDataError(AlbenchError, ValueError):
    """A dataset file is truncated, altered or not in the expected format."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: {problem}. Delete the file and download it again "
                         f"(or replace it with the official one)")
        self.path = path


def data_root(data_dir: str | os.PathLike | None = None) -> Path:
    """Where datasets live: ``data_dir``, else ``$ALBENCH_DATA_DIR``, else the user cache."""
    if data_dir:
        return Path(data_dir).expanduser()
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "albench" / "data"


# --- finding files ------------------------------------------------------------------------


def _locate(title: str, folders: list[Path], present: Callable[[Path], list[str]],
            wanted: list[str], download: bool, fetch: Callable[[], None],
            how_to: Callable[[], str]) -> Path:
    """The first folder where ``present`` finds every wanted file, downloading once if allowed.

    ``present(folder)`` lists the wanted files found there; ``how_to()`` says where to get
    them (a callable, so that torchvision is imported only when needed).
    """
    for folder in folders:
        if len(present(folder)) == len(wanted):
            return folder
    if download:
        try:
            fetch()
        except (OSError, RuntimeError, ValueError) as exc:  # offline, refused, disk full
            reason = f"the download failed: {type(exc).__name__}: {exc}"
        else:
            for folder in folders:
                if len(present(folder)) == len(wanted):
                    return folder
            reason = "the download did not produce the expected files"
    else:
        reason = "downloads are off (download=false)"
    partial = [f"  {folder}  (has {', '.join(found)})" if (found := present(folder))
               else f"  {folder}" for folder in folders]
    raise DataNotFoundError(
        f"{title} is not on this machine and {reason}.\n"
        f"Looked for {', '.join(wanted)} in:\n" + "\n".join(partial) + "\n"
        f"To get it: {how_to()}; or run once with internet access (albench downloads it into "
        f"{folders[0]}); or point --data-dir, {DATA_DIR_ENV} or the dataset's data_dir option "
        f"at a folder that holds it.")


def _system_folders(slug: str) -> list[Path]:
    """Shared copies: Debian's dataset packages."""
    return [Path("/usr/share/datasets") / slug]


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_md5(path: Path, expected: str) -> None:
    actual = _md5(path)
    if actual != expected:
        raise CorruptDataError(path, f"MD5 is {actual}, the official file's is {expected} "
                                     f"(size {path.stat().st_size} bytes)")


def _revision(name: str, checksums: dict[str, str]) -> str:
    """A stable fingerprint of verified data: a hash of the official checksums."""
    text = name + "".join(f"{k}={v};" for k, v in sorted(checksums.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _unit_scaled(dataset: Dataset, standardize: bool) -> Dataset:
    """``dataset``, or with ``standardize=False`` its inputs divided by 255 only (the DAL
    study's preprocessing), without the per-channel mean and standard deviation."""
    if standardize:
        return dataset
    channels = len(dataset.mean)
    return replace(dataset, mean=(0.0,) * channels, std=(1.0,) * channels)


def _subsample_test(dataset: Dataset, test_size: int | None) -> Dataset:
    """Keep a fixed random ``test_size`` subset of the test set (all of it when ``None``)."""
    if test_size is None or test_size >= len(dataset.y_test):
        return dataset
    keep = np.sort(np.random.default_rng(0).choice(len(dataset.y_test), test_size,
                                                   replace=False))
    revision = dataset.revision and f"{dataset.revision}/test{test_size}"
    return replace(dataset, x_test=dataset.x_test[keep], y_test=dataset.y_test[keep],
                   revision=revision)


# --- MNIST and Fashion-MNIST: IDX files ---------------------------------------------------

_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _idx_path(folder: Path, stem: str) -> Path | None:
    """``stem.gz`` or the extracted ``stem`` in ``folder``, whichever exists (gz first)."""
    for path in (folder / f"{stem}.gz", folder / stem):
        if path.is_file():
            return path
    return None


def _sha256sums(folder: Path) -> dict[str, str]:
    """The ``SHA256SUMS`` manifest in ``folder`` (file name -> digest), if any."""
    manifest = folder / "SHA256SUMS"
    if not manifest.is_file():
        return {}
    entries = {}
    for line in manifest.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            entries[parts[1].lstrip("*")] = parts[0].lower()
    return entries


def read_idx(path: Path, expected_sha256: str | None = None) -> np.ndarray:
    """An IDX file (``.gz`` or not) of unsigned bytes as an array; errors name the file."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                data = f.read()
        else:
            data = path.read_bytes()
    except (EOFError, OSError, zlib.error) as exc:
        raise CorruptDataError(path, f"cannot be decompressed ({exc}); it is truncated "
                                     f"or damaged") from None
    if expected_sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected_sha256:
            raise CorruptDataError(path, f"content SHA-256 is {actual}, the official file's "
                                         f"is {expected_sha256}")
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 0x08:
        raise CorruptDataError(path, "not an IDX file of unsigned bytes")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise CorruptDataError(path, "truncated inside the IDX header")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(data) != expected:
        raise CorruptDataError(path, f"holds {len(data)} bytes but its header {dims} "
                                     f"needs {expected}; it is truncated or damaged")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def _load_idx_dataset(name: str, title: str, torchvision_class: str, slug: str,
                      official: dict[str, str], mean: float, std: float,
                      classes: tuple[str, ...], data_dir, download: bool, verify: bool,
                      extra_folders: list[Path], how_to: Callable[[], str]) -> Dataset:
    root = data_root(data_dir)
    folders = [root / torchvision_class / "raw", root / slug, *extra_folders]

    def present(folder: Path) -> list[str]:
        return [f"{s}[.gz]" for s in _IDX_FILES if _idx_path(folder, s) is not None]

    def fetch() -> None:
        import torchvision

        getattr(torchvision.datasets, torchvision_class)(str(root), download=True)

    wanted = [f"{s}[.gz]" for s in _IDX_FILES]
    folder = _locate(title, folders, present, wanted, download, fetch, how_to)
    manifest = _sha256sums(folder)
    arrays = {}
    for stem in _IDX_FILES:
        path = _idx_path(folder, stem)
        if path.name in manifest:
            actual = hashlib.sha256(path.read_bytes()).hexdigest()
            if actual != manifest[path.name]:
                raise CorruptDataError(path, f"SHA-256 is {actual} but {folder / 'SHA256SUMS'}"
                                             f" lists {manifest[path.name]}")
        arrays[stem] = read_idx(path, official[stem] if verify else None)
    x_pool, y_pool = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
    x_test, y_test = arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]
    return Dataset(
        name, x_pool[:, None], y_pool.astype(np.int64), x_test[:, None],
        y_test.astype(np.int64), num_classes=10, mean=(mean,), std=(std,), scale=255.0,
        input_range=(0, 255), revision=_revision(name, official) if verify else "",
        classes=classes)


def mnist(data_dir: str | None = None, download: bool = True, verify: bool = True,
          test_size: int | None = None, standardize: bool = True) -> Dataset:
    """MNIST handwritten digits: 60,000 pool and 10,000 test images, 1x28x28."""

    def how_to() -> str:
        from torchvision.datasets import MNIST

        return (f"download the four IDX .gz files ({', '.join(_IDX_FILES)}, each with .gz) "
                f"from {' or '.join(MNIST.mirrors)}")

    return _unit_scaled(_subsample_test(_load_idx_dataset(
        "mnist", "MNIST", "MNIST", "mnist", _MNIST_SHA256, 0.1307, 0.3081, _DIGITS,
        data_dir, download, verify, [], how_to), test_size), standardize)


def fashion_mnist(data_dir: str | None = None, download: bool = True, verify: bool = True,
                  test_size: int | None = None, standardize: bool = True) -> Dataset:
    """Zalando's Fashion-MNIST: 60,000 pool and 10,000 test images of clothes, 1x28x28."""

    def how_to() -> str:
        from torchvision.datasets import FashionMNIST

        return (f"`apt-get install dataset-fashion-mnist` (Debian), or download the four IDX "
                f".gz files from {FashionMNIST.mirrors[0]}")

    return _unit_scaled(_subsample_test(_load_idx_dataset(
        "fashion-mnist", "Fashion-MNIST", "FashionMNIST", "fashion-mnist", _FASHION_SHA256,
        0.2860, 0.3530, _FASHION_CLASSES, data_dir, download, verify,
        _system_folders("fashion-mnist"), how_to), test_size), standardize)


# --- CIFAR-10 and CIFAR-100: python pickle batches -----------------------------------------


def _read_pickle(path: Path, expected_md5: str | None) -> dict:
    if expected_md5 is not None:
        _check_md5(path, expected_md5)
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="latin1")
    except (pickle.UnpicklingError, EOFError, ValueError, IndexError) as exc:
        raise CorruptDataError(path, f"cannot be read as a CIFAR batch ({type(exc).__name__}:"
                                     f" {exc}); it is truncated or damaged") from None
    if not isinstance(batch, dict):
        raise CorruptDataError(path, "does not hold a CIFAR batch (a dict)")
    return batch


def _cifar_images(path: Path, batch: dict, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        data = np.asarray(batch["data"], dtype=np.uint8)
        labels = np.asarray(batch[label_key], dtype=np.int64)
        images = data.reshape(len(data), 3, 32, 32)
    except (KeyError, ValueError) as exc:
        raise CorruptDataError(path, f"is not a CIFAR batch ({type(exc).__name__}: {exc})"
                               ) from None
    if len(images) != len(labels):
        raise CorruptDataError(path, f"has {len(images)} images but {len(labels)} labels")
    return images, labels


def _load_cifar(name: str, title: str, folder_name: str, official: dict[str, str],
                train_files: list[str], test_file: str, meta_file: str, label_key: str,
                names_key: str, num_classes: int, mean, std, torchvision_class: str,
                data_dir, download: bool, verify: bool) -> Dataset:
    root = data_root(data_dir)
    wanted = [*train_files, test_file, meta_file]

    def present(folder: Path) -> list[str]:
        return [f for f in wanted if (folder / f).is_file()]

    def fetch() -> None:
        import torchvision

        getattr(torchvision.datasets, torchvision_class)(str(root), download=True)

    def how_to() -> str:
        import torchvision

        url = getattr(torchvision.datasets, torchvision_class).url
        return f"download {url} and unpack it into {root} (it holds the folder {folder_name})"

    folder = _locate(title, [root / folder_name], present, wanted, download, fetch, how_to)
    parts = [_cifar_images(folder / f, _read_pickle(folder / f, official[f] if verify
                                                    else None), label_key)
             for f in [*train_files, test_file]]
    x_pool = np.concatenate([p[0] for p in parts[:-1]])
    y_pool = np.concatenate([p[1] for p in parts[:-1]])
    meta = _read_pickle(folder / meta_file, official[meta_file] if verify else None)
    classes = tuple(meta.get(names_key, ()))
    return Dataset(name, x_pool, y_pool, *parts[-1], num_classes=num_classes, mean=mean,
                   std=std, scale=255.0, input_range=(0, 255),
                   revision=_revision(name, official) if verify else "", classes=classes)


def cifar10(data_dir: str | None = None, download: bool = True, verify: bool = True,
            test_size: int | None = None, standardize: bool = True) -> Dataset:
    """CIFAR-10: 50,000 pool and 10,000 test colour images, 3x32x32, 10 classes."""
    return _unit_scaled(_subsample_test(_load_cifar(
        "cifar10", "CIFAR-10", "cifar-10-batches-py", _CIFAR10_MD5,
        [f"data_batch_{i}" for i in range(1, 6)], "test_batch", "batches.meta", "labels",
        "label_names", 10, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616), "CIFAR10",
        data_dir, download, verify), test_size), standardize)


def cifar100(data_dir: str | None = None, download: bool = True, verify: bool = True,
             test_size: int | None = None, standardize: bool = True) -> Dataset:
    """CIFAR-100 (fine labels): 50,000 pool and 10,000 test images, 3x32x32, 100 classes."""
    return _unit_scaled(_subsample_test(_load_cifar(
        "cifar100", "CIFAR-100", "cifar-100-python", _CIFAR100_MD5, ["train"], "test", "meta",
        "fine_labels", "fine_label_names", 100, (0.5071, 0.4865, 0.4409),
        (0.2673, 0.2564, 0.2762), "CIFAR100", data_dir, download, verify), test_size),
        standardize)


# --- SVHN: MATLAB files ---------------------------------------------------------------------


def _read_svhn(path: Path, expected_md5: str | None) -> tuple[np.ndarray, np.ndarray]:
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    if expected_md5 is not None:
        _check_md5(path, expected_md5)
    try:
        mat = loadmat(path, variable_names=["X", "y"])
        x, y = mat["X"], mat["y"]
    except (MatReadError, OSError, ValueError, IndexError, KeyError, TypeError) as exc:
        raise CorruptDataError(path, f"cannot be read as an SVHN .mat file "
                                     f"({type(exc).__name__}: {exc})") from None
    if x.ndim != 4 or x.shape[:3] != (32, 32, 3) or y.size != x.shape[3]:
        raise CorruptDataError(path, f"holds X {x.shape} and y {y.shape}, expected "
                                     f"(32, 32, 3, N) and N labels")
    # (H, W, C, N) -> (N, C, H, W); the digit 0 is stored as label 10.
    images = np.ascontiguousarray(x.transpose(3, 2, 0, 1), dtype=np.uint8)
    return images, y.reshape(-1).astype(np.int64) % 10


def svhn(data_dir: str | None = None, download: bool = True, verify: bool = True,
         test_size: int | None = None) -> Dataset:
    """SVHN cropped digits: 73,257 pool and 26,032 test images, 3x32x32 (no 'extra' split)."""
    root = data_root(data_dir)
    folder = root / "svhn"
    wanted = list(_SVHN_MD5)

    def present(f: Path) -> list[str]:
        return [w for w in wanted if (f / w).is_file()]

    def fetch() -> None:
        from torchvision.datasets import SVHN

        for split in ("train", "test"):
            SVHN(str(folder), split=split, download=True)

    def how_to() -> str:
        from torchvision.datasets import SVHN

        urls = " and ".join(SVHN.split_list[s][0] for s in ("train", "test"))
        return f"download {urls} into {folder}"

    _locate("SVHN", [folder], present, wanted, download, fetch, how_to)
    (x_pool, y_pool), (x_test, y_test) = (
        _read_svhn(folder / f, _SVHN_MD5[f] if verify else None) for f in wanted)
    return _subsample_test(Dataset(
        "svhn", x_pool, y_pool, x_test, y_test, num_classes=10,
        mean=(0.4377, 0.4438, 0.4728), std=(0.1980, 0.2010, 0.1970), scale=255.0,
        input_range=(0, 255), revision=_revision("svhn", _SVHN_MD5) if verify else "",
        classes=_DIGITS), test_size)


# Class names readable without loading the data (leaderboards label histograms with them).
mnist.classes = _DIGITS
fashion_mnist.classes = _FASHION_CLASSES
svhn.classes = _DIGITS


@hookimpl
def albench_register_datasets(register):
    plain = "options: data_dir, download, verify, test_size"
    options = f"{plain}, standardize"
    register("mnist", mnist, f"MNIST digits, 1x28x28, 60k pool / 10k test ({options})")
    register("fashion-mnist", fashion_mnist,
             f"Fashion-MNIST, 1x28x28, 60k pool / 10k test; also found in Debian's "
             f"dataset-fashion-mnist ({options})")
    register("cifar10", cifar10, f"CIFAR-10, 3x32x32, 50k pool / 10k test ({options})")
    register("cifar100", cifar100,
             f"CIFAR-100 fine labels, 3x32x32, 50k pool / 10k test ({options})")
    register("svhn", svhn, f"SVHN cropped digits, 3x32x32, 73k pool / 26k test ({plain})")
