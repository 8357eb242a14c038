"""Catalog files: accelerators, networks, sites and workloads, one TOML file per item.

The file name is the key; unknown keys are errors naming the file and the key; every number is a
sourced figure (docs/catalog.md). Files load lazily, on first use of a key, never at import time.
A user directory (``--catalog DIR`` or ``PLANNER_CATALOG``) has the same layout, and its files
override shipped files of the same key. This module finds the files, caches and resolves keys;
catalog_files.py parses one file against its schema.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from .catalog_files import is_workload_file, load_file, read_toml
from .catalog_schema import KEY_CHARS, KEY_FORM
from .errors import FLAGS, CatalogError, InputError, UnknownKeyError, did_you_mean
from .specs import (
    Accelerator,
    Network,
    Site,
    Workload,
)

KINDS = {
    "accelerators": "hardware/accelerators",
    "networks": "hardware/networks",
    "sites": "hardware/sites",
    "workloads": "workloads",
    "measurements": "workloads/measurements",
}
# The kinds `planner hardware show NAME` looks a name up in, one after the other: a name two
# of them answer to is refused (Catalog.resolve), or the later kind's file would be unreachable.
HARDWARE_KINDS = ("accelerators", "networks", "sites")
# The site profile a plan assumes where none is named (plan/inputs.default_site; config show
# lists it).
DEFAULT_SITE = "us-hyperscale"


@lru_cache(maxsize=1)
def _shipped_root() -> Path:
    """The catalogs inside the installed wheel, or the checkout's hardware/ and workloads/."""
    packaged = Path(__file__).resolve().parent / "catalog_data"  # the wheel's copy
    if (packaged / "hardware").is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Catalog:
    """The shipped catalog overlaid with user directories (later directories win)."""

    user_dirs: tuple[Path, ...] = ()

    @property
    def roots(self) -> tuple[Path, ...]:
        return (_shipped_root(), *self.user_dirs)

    def files(self, kind: str) -> dict[str, Path]:
        """key -> file, user files overriding shipped ones of the same key."""
        if kind not in KINDS:
            near = did_you_mean(str(kind), list(KINDS))
            raise InputError("kind", kind, "a catalog kind: " + ", ".join(KINDS),
                             "is not a catalog kind" + (f" (did you mean {near}?)"
                                                         if near else ""))
        return _files(self.roots, kind)

    def from_user(self, kind: str, key: str) -> bool:
        """Whether the file of ``key`` is a user catalog's (--catalog, PLANNER_CATALOG), one
        added or one in place of the shipped file of that key."""
        return bool(self.user_dirs) and \
            self.path(kind, key) not in Catalog().files(kind).values()

    def keys(self, kind: str) -> list[str]:
        return sorted(self.files(kind))

    def path(self, kind: str, key: str) -> Path:
        files = self.files(kind)
        resolved = self.resolve(kind, key)
        return files[resolved]

    def resolve(self, kind: str, key: str) -> str:
        """A key or alias (case-insensitive) to the key of its file. An alias two files
        claim is refused, naming both, rather than one silently taking the other's place."""
        files = self.files(kind)
        k = str(key).strip().lower()
        if not k:
            raise InputError(FLAGS.get(kind, kind), key, f"a key of the catalog's {kind} "
                             "(planner hardware list, planner workloads list)", "is empty")
        if k in files:
            if kind == "accelerators" and self.user_dirs:
                # a user's file whose alias is another's key: that alias is dead, and the
                # user may well have meant their own file (aliases = ["b200"] on my-gpu)
                claims = [n for n in sorted(files)
                          if n != k and k in self._item(kind, files[n]).aliases]
                if claims:
                    raise self._key_claimed_as_alias(kind, k, files, claims)
            self._one_kind(kind, k, files[k])
            return k
        if kind == "accelerators":
            claims = [name for name in sorted(files)
                      if k in self._item(kind, files[name]).aliases]
            if len(claims) > 1:
                raise CatalogError(f"alias '{k}' is claimed by {len(claims)} accelerator files "
                                   f"({', '.join(str(files[c]) for c in claims)}); give the "
                                   f"key ({', '.join(claims)}) or remove the alias from one",
                                   f"{files[claims[-1]]}: aliases",
                                   "an alias one accelerator file claims")
            if claims:
                self._one_kind(kind, k, files[claims[0]])
                return claims[0]
        raise UnknownKeyError(kind, key, files)

    def _rank(self, kind: str, path: Path) -> int:
        """Which catalog a file of ``kind`` is in: 0 the shipped one, then the user
        directories in their order (a later one wins)."""
        ranks = [i for i, root in enumerate(self.roots) if path.parent == Path(root) / KINDS[kind]]
        return ranks[-1] if ranks else len(self.roots)

    def _key_claimed_as_alias(self, kind: str, k: str, files: dict[str, Path],
                              claims: list[str]) -> CatalogError:
        """The error of a file whose key another file claims as an alias. The file of the
        later catalog is the one to change: a user's h100.toml beside the shipped H100 SXM's
        alias "h100" is renamed (or named h100-sxm.toml, to replace that file), never the
        shipped file edited; a user's alias on the shipped b200's key is removed."""
        path = files[k]
        claimed_in = [self._rank(kind, files[c]) for c in claims]
        if self._rank(kind, path) > max(claimed_in):
            whose = "the shipped" if max(claimed_in) == 0 else "an earlier catalog's"
            return CatalogError(
                f"{path}: its key '{k}' is an alias of {whose} {', '.join(claims)} "
                f"({', '.join(str(files[c]) for c in claims)}), and a key may not be another "
                f"file's alias: rename {path.name} to a key no accelerator file uses as its key "
                f"or alias (planner hardware list), or name it {claims[0]}.toml to replace "
                f"{claims[0]}", str(path),
                f"a file name that is no other file's key or alias, or {claims[0]}.toml")
        return CatalogError(f"'{k}' is the key of {path} and an alias of "
                            f"{', '.join(str(files[c]) for c in claims)}; remove the alias "
                            f"(an alias may not be another file's key)",
                            f"{files[claims[0]]}: aliases", "an alias that is no other file's key")

    def _one_kind(self, kind: str, name: str, path: Path) -> None:
        """Refuse a name that files of two hardware kinds answer to (an accelerator x1000 and
        a site x1000), where either is a user's: `planner hardware show NAME` looks the kinds
        up in turn, so the second file could never be shown. The later catalog's file is
        named to be renamed. The shipped catalog has no such name
        (tests/test_catalog_user_dirs.py)."""
        if kind not in HARDWARE_KINDS or not self.user_dirs:
            return
        for other in HARDWARE_KINDS:
            theirs = self.files(other).get(name) if other != kind else None
            as_what = "the key"
            if theirs is None and other == "accelerators" and kind != other:
                theirs, as_what = self._alias_file(name), "an alias"
            if theirs is None:
                continue
            mine, their_rank = self._rank(kind, path), self._rank(other, theirs)
            if not mine and not their_rank:
                continue  # both shipped
            what = "the key" if path.stem.lower() == name else "an alias"
            shown = min(kind, other, key=HARDWARE_KINDS.index)
            # the later catalog's file; of one catalog, the file the lookup would hide
            rename = (path if mine > their_rank else theirs) if mine != their_rank else \
                (theirs if shown == kind else path)
            # where the name is that file's alias, the alias is what to change (renaming the
            # file leaves it claiming the name)
            alias_of_rename = (as_what if rename == theirs else what) == "an alias"
            fix = (f"remove the alias '{name}' from {rename}" if alias_of_rename else
                   f"rename {rename} to a key no other accelerator, network or site file uses")
            raise CatalogError(
                f"'{name}' is {what} of the {kind[:-1]} file {path} and {as_what} of the "
                f"{other[:-1]} file {theirs}: 'planner hardware show {name}' would show the "
                f"{shown[:-1]} and never the other; {fix}", str(rename),
                "an alias no network or site file uses as its key" if alias_of_rename else
                "a key no other accelerator, network or site file uses")

    def _alias_file(self, name: str) -> Path | None:
        """The accelerator file that claims ``name`` as an alias, None if none does (a file
        that does not load is passed over here: it is named where it is used)."""
        for path in self.files("accelerators").values():
            try:
                if name in self._item("accelerators", path).aliases:
                    return path
            except CatalogError:
                continue
        return None

    def _item(self, kind: str, path: Path):
        """The typed object of one file (cached while the file is unchanged), unchecked
        against the rest of the catalog."""
        return _load(kind, path, _mtime_ns(path))

    def _check_references(self, kind: str, path: Path, item):
        """``item`` (a workload or a measurements file) once its [[reference]] rows name keys
        of this catalog, as docs/catalog.md says they are checked at load: a row's
        accelerator and network (and a measurement row's workload) by their keys, so that
        validate never meets an unknown key (or an alias the rows' lookups miss) later."""
        fields = (("accelerator", "accelerators", "planner hardware list"),
                  ("network", "networks", "planner hardware list"))
        if kind == "measurements":
            fields += (("workload", "workloads", "planner workloads list"),)
        for field, of, listing in fields:
            known = self.files(of)
            for ref in item.references:
                name = getattr(ref, field)
                if name is None or name in known:
                    continue
                where = f"{path}: [[reference]] {ref.row_id}: {field} '{name}'"
                accepted = f"a key of '{listing}'"
                try:
                    key = self.resolve(of, name)
                except UnknownKeyError as exc:
                    near = f" (did you mean {exc.suggestion}?)" if exc.suggestion else ""
                    raise CatalogError(f"{where} names no {of[:-1]} of the catalog{near}; "
                                       f"accepted: {accepted}: {', '.join(exc.known)}",
                                       f"{path}: reference.{field}", accepted) from None
                raise CatalogError(f"{where} is not a key; accepted: its key, '{key}'",
                                   f"{path}: reference.{field}", accepted)
        return item

    def get(self, kind: str, key: str):
        files = self.files(kind)
        k = str(key).strip().lower()
        if k not in files:
            k = self.resolve(kind, key)
        else:  # as resolve does: a name two kinds of file answer to
            self._one_kind(kind, k, files[k])
        item = self._item(kind, files[k])
        if kind in ("workloads", "measurements"):
            self._check_references(kind, files[k], item)
        return item

    def accelerator(self, key: str) -> Accelerator:
        return self.get("accelerators", key)

    def network(self, key: str) -> Network:
        return self.get("networks", key)

    def own_network(self, acc: Accelerator, name: str) -> Network | None:
        """The network an accelerator's file names as its ``name`` ("scale_up_network" or
        "scale_out_network"), None when it names none; a network the catalog lacks, or of the
        other tier, is that file's error."""
        key = getattr(acc, name)
        path = self.path("accelerators", acc.key)
        tier = name[:-len("_network")]  # "scale_up" or "scale_out"
        try:
            net = self.network(key) if key else None
        except UnknownKeyError as exc:
            near = did_you_mean(key, exc.known)
            raise CatalogError(f"{path}: {name} '{key}' names no network of the catalog"
                               + (f" (did you mean {near}?)" if near else "")
                               + f"; known: {', '.join(exc.known)}", f"{path}: {name}") \
                from None
        # a mismatch is either file's: the network's own file is named beside the
        # accelerator's (a user's network file overriding a shipped one had been blamed on
        # the shipped accelerator files that name it)
        net_file = f" (network file {self.path('networks', net.key)})" if net is not None else ""
        if net is not None and net.tier != tier:
            fits = [n.key for n in self.all("networks") if n.tier == tier]
            raise CatalogError(f"{path}: {name} '{key}'{net_file} is a {net.tier} network; "
                               f"accepted: a {tier} network: {', '.join(fits)}",
                               f"{path}: {name}", f"a {tier} network: {', '.join(fits)}")
        if net is not None and net.accelerator_vendors is not None and not acc.vendor:
            # the vendor itself, not "serves NVIDIA accelerators only, not vendor ''"
            raise CatalogError(f"{path}: vendor: missing; {name} '{key}' serves "
                               f"{', '.join(net.accelerator_vendors)} accelerators only, so the "
                               "file must name its maker; accepted: vendor = \"...\" as the "
                               "network files' accelerator_vendors spell it (NVIDIA, AMD, "
                               "Google, AWS, Intel)", f"{path}: vendor",
                               "the maker's name as the network files spell it")
        if net is not None and not net.serves(acc):
            raise CatalogError(f"{path}: {name} '{key}'{net_file} serves "
                               f"{', '.join(net.accelerator_vendors)} accelerators only, not "
                               f"vendor {acc.vendor!r}; accepted: a {tier} network its "
                               f"devices attach to: {self.fabrics_for(acc, tier)}",
                               f"{path}: {name}")
        return net

    def fabrics_for(self, acc: Accelerator, tier: str = "scale_out") -> str:
        """The networks of ``tier`` that ``acc``'s devices attach to (Network.serves), as a
        message lists them; none: what file would give one."""
        fits = [n.key for n in self.all("networks") if n.tier == tier and n.serves(acc)]
        if not fits and not acc.vendor:
            return ("none: the accelerator file gives no vendor, and each network of the tier "
                    "names the vendors it serves (vendor = \"...\", docs/catalog.md)")
        return ", ".join(fits) or (f"none yet: a network file whose accelerator_vendors "
                                   f"names {acc.vendor!r}, or has none (docs/catalog.md)")

    def site(self, key: str) -> Site:
        return self.get("sites", key)

    def workload(self, key: str) -> Workload:
        if is_workload_file(key):
            path = Path(key)
            accepted = ("a workload key (planner workloads list), FILE.toml laid out as "
                        "docs/catalog.md says, or config.json")
            if not path.is_file():
                raise InputError("--workload", str(key), accepted, "is no such file")
            try:
                item = load_file("workloads", path)
            except CatalogError as exc:  # unreadable or not TOML: named as the input it is
                if exc.option is None:
                    raise CatalogError(str(exc), "--workload", accepted) from None
                raise
            return self._check_references("workloads", path, item)
        return self.get("workloads", key)

    def all(self, kind: str) -> list:
        return [self.get(kind, k) for k in self.keys(kind)]

    def raw(self, kind: str, key: str) -> dict:
        return read_toml(self.path(kind, key))

    def fingerprint(self) -> str:
        """A hash of every catalog file in use, for sweep metadata."""
        digest = hashlib.sha256()
        for kind in KINDS:
            for key, path in sorted(self.files(kind).items()):
                digest.update(f"{kind}/{key}\0".encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()[:16]


# Inside ``held_listings``: each catalog folder's files and each file's time stamp as first
# read in the block (None outside one: read afresh every time).
_HELD: ContextVar[dict | None] = ContextVar("planner_catalog_held", default=None)


@contextmanager
def held_listings():
    """Inside this block the catalog's folders are listed, and its files' time stamps read,
    once each: a call answering thousands of scenarios (estimate_many's chunk) had stat()-ed
    every folder some 17 times a scenario. A file added or changed is seen by the next block
    (the next call, the next chunk of a sweep), as it is by the next call outside one; an
    enclosing block's listings are kept."""
    token = _HELD.set(_HELD.get() if _HELD.get() is not None else {})
    try:
        yield
    finally:
        _HELD.reset(token)


def _mtime_ns(path: Path) -> int:
    """A file's time stamp (that of a ``held_listings`` block's first look, inside one)."""
    held = _HELD.get()
    key = ("mtime", path)
    if held is not None and key in held:
        return held[key]
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:  # removed since its folder was listed (a block holds the listing)
        raise CatalogError(f"{path}: cannot read ({exc.strerror}): the catalog file was "
                           "removed or moved while the planner read the catalog; run again",
                           str(path)) from None
    if held is not None:
        held[key] = stamp
    return stamp


def _files(roots: tuple[Path, ...], kind: str) -> dict[str, Path]:
    held = _HELD.get()
    if held is None:
        return _files_now(roots, kind)
    key = ("files", roots, kind)
    if key not in held:
        held[key] = _files_now(roots, kind)
    return dict(held[key])  # a copy: the caller's to change


def _files_now(roots: tuple[Path, ...], kind: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for root in roots:
        folder = Path(root) / KINDS[kind]
        if folder.is_dir():  # listed again once the folder changes (a file added in a session)
            found.update(_listing(folder, folder.stat().st_mtime_ns))
    return found


@lru_cache(maxsize=256)
def _listing(folder: Path, mtime_ns: int) -> dict[str, Path]:
    """key -> file of one catalog folder. Keys are case-insensitive, so two files whose names
    differ only in case (x1000.toml, X1000.toml) are one key: refused, naming both, rather
    than the later silently read in place of the other."""
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.toml")):
        if _hidden(path, folder):
            continue
        if not path.is_file():  # a dangling link had crashed every command (FileNotFoundError)
            what = (f"a link to '{os.readlink(path)}', which does not exist"
                    if path.is_symlink() and not path.exists() else "not a file")
            raise CatalogError(f"{path}: cannot read (it is {what}): the catalog reads every "
                               "NAME.toml of its folders; remove it, or start its name with "
                               "'.' to have it skipped", str(path),
                               "a TOML file named KEY.toml, or a name starting with '.'")
        if not re.fullmatch(KEY_CHARS, path.stem):
            raise CatalogError(f"{path}: its name '{path.stem}' is not a key: a file's name is "
                               f"its key, of {KEY_FORM} (a ',', '=' or space splits it where "
                               "a command reads a list, --gpu a,b or --inventory KEY=N)",
                               str(path), f"files named KEY.toml ({KEY_FORM})")
        key = path.stem.lower()
        if key in found:
            raise CatalogError(f"{found[key]} and {path} are both the key '{key}' (a file's "
                               "name is its key, in any case): keep one of them, or rename "
                               "one", str(path), "one file a key in a folder, the names "
                               "differing in more than case")
        found[key] = path
    return found


def _hidden(path: Path, root: Path) -> bool:
    """Whether ``path`` is hidden below ``root`` (a name in it starts with '.'): not a catalog
    file, wherever it sits. Editors and systems leave such files beside the real ones (Emacs's
    lock link .#x1000.toml, macOS's AppleDouble ._x1000.toml, a .trash/ folder): read as keys,
    they had listed '.hidden' or stopped the whole catalog as invalid TOML."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


@lru_cache(maxsize=1024)
def _load(kind: str, path: Path, mtime_ns: int):
    return load_file(kind, path)


_NEAR_TOML = (".tml", ".tom", ".tmol", ".toml.txt", ".toml.md")


def _misnamed_file(root: Path) -> tuple[Path, str] | None:
    """(file, why) for a file of a catalog folder under ``root`` that the catalog skips but
    was surely meant to be read: a near miss of .toml (x.TOML, x.tml, x.toml.txt) or a name
    with spaces around its key ("us-hyperscale .toml" had listed a second us-hyperscale
    whose figures nothing used); None if none."""
    for folder in KINDS.values():
        d = root / folder
        if not d.is_dir():
            continue
        for path in sorted(d.iterdir()):
            name = path.name
            if not path.is_file() or _hidden(path, d):
                continue
            lower = name.lower()
            if name.endswith(".toml"):
                if path.stem != path.stem.strip():
                    return path, (f"its key '{path.stem}' has spaces around it: rename it "
                                  f"{path.stem.strip()}.toml")
            elif lower.endswith(".toml") or lower.endswith(_NEAR_TOML):
                stem = name[:-len(next(e for e in (".toml", *_NEAR_TOML)
                                       if lower.endswith(e)))]
                return path, f"the catalog reads files ending .toml: rename it {stem}.toml"
            elif lower.endswith(".json") and folder == KINDS["workloads"]:
                # a Hugging Face config.json is read by --workload PATH, not from a catalog
                return path, (f"a catalog's workloads are TOML files; a config.json is read "
                              f"by --workload {path} (or write its shape as a workload "
                              "TOML: docs/catalog.md)")
    return None


# A folder of the shipped layout that the catalog does not read: fleet files (planner schedule
# FLEET.toml, docs/scheduling.md) sit in workloads/fleets/, and a user's copy of the layout may
# keep theirs there too.
BESIDE = ("workloads/fleets",)


def _misnamed_folder(root: Path) -> tuple[str, str] | None:
    """(folder, where its files go) for a folder of TOML files under ``root`` that the
    catalog does not read but that sits inside one it does (hardware/accelerators/sub/,
    workloads/models/, hardware/ itself) or whose name is near one
    (hardware/accelerator for hardware/accelerators, workload/ for workloads/); None if none."""
    for pattern in ("*/*.toml", "*/*/*.toml", "*/*/*/*.toml"):
        for path in sorted(root.glob(pattern)):
            if _hidden(path, root):
                continue
            folder = path.parent.relative_to(root).as_posix()
            if folder in KINDS.values() or any(folder == b or folder.startswith(b + "/")
                                               for b in BESIDE):
                continue
            # a near miss (a letter or two: hardware/accelerator, workload/,
            # workloads/measurement), not any folder sharing a word with one
            # (hardware/old-sites/ holds drafts)
            meant = difflib.get_close_matches(folder, list(KINDS.values()), n=1, cutoff=0.9)
            if meant:
                return folder, f"{meant[0]}/"
            # a folder inside a folder read is not read: hardware/accelerators/sub/ and
            # workloads/models/ had been skipped without a word, then 'unknown workload'
            inside = [read for read in KINDS.values() if folder.startswith(read + "/")]
            if inside:
                return folder, f"{max(inside, key=len)}/"
            if folder == "hardware":  # its files go one folder down
                *first, last = (f"{KINDS[k]}/" for k in HARDWARE_KINDS)
                return folder, f"{', '.join(first)} or {last}"
    return None


def catalog_dirs(value) -> list[str]:
    """--catalog's directories: one, or several joined by os.pathsep (later ones win), as
    PLANNER_CATALOG takes them and a config file's list gives them."""
    text = str(value)
    return [text] if Path(text).is_dir() else [p for p in text.split(os.pathsep) if p] or [text]


def catalog(dirs: Iterable[str | Path] | str | None = None) -> Catalog:
    """The catalog in use: PLANNER_CATALOG directories, then ``dirs`` (later ones win)."""
    env = os.environ.get("PLANNER_CATALOG", "")
    user = [Path(p) for p in env.split(os.pathsep) if p]
    from_env = len(user)  # the first ones come from the environment, the rest from --catalog
    if isinstance(dirs, (str, Path)):  # one, or several joined as --catalog takes them
        dirs = catalog_dirs(dirs) if str(dirs).strip() else [dirs]
    accepted = "a catalog directory (laid out like hardware/ and workloads/), or a list of them"
    if dirs is not None and not isinstance(dirs, (list, tuple)):
        raise InputError("--catalog", dirs, accepted, "is not a directory")
    for p in dirs or []:
        if not isinstance(p, (str, Path)) or not str(p).strip():
            raise InputError("--catalog", p, accepted, "is empty" if isinstance(p, str)
                             else "is not a directory")
    user += [Path(p) for p in (dirs or [])]
    layout = "a directory laid out like hardware/ and workloads/"
    for i, p in enumerate(user):
        option = "PLANNER_CATALOG" if i < from_env else "--catalog"
        if not p.is_dir():
            raise CatalogError(f"catalog directory '{p}' "
                               + ("is a file, not a directory" if p.exists() else
                                  "does not exist")
                               + (" (set by the environment variable PLANNER_CATALOG)"
                                  if i < from_env else ""), option, layout)
        for folder in sorted({f.split("/")[0] for f in KINDS.values()} | {*KINDS.values()}):
            # a file (or a dangling link) where a catalog folder goes had added nothing,
            # silently: no folder to read
            q = p / folder
            if (q.exists() or q.is_symlink()) and not q.is_dir():
                raise CatalogError(f"catalog directory '{p}': {q} is not a folder: the catalog "
                                   f"reads the KEY.toml files inside {folder}/ (the folders: "
                                   f"{', '.join(f + '/' for f in KINDS.values())})", option,
                                   layout)
        if not any((p / folder).is_dir() for folder in KINDS.values()) and any(
                not _hidden(f, p) for pattern in ("*.toml", "*/*.toml", "*/*/*.toml")
                for f in p.glob(pattern)):
            # files in a misnamed folder (hardware/accelerator/, workload/) would add nothing,
            # silently (an empty directory, to be filled later, adds nothing either)
            raise CatalogError(f"catalog directory '{p}' holds none of the catalog's folders "
                               f"({', '.join(f + '/' for f in KINDS.values())}): a file must "
                               "sit in one of them, as in the planner's own hardware/ and "
                               "workloads/", option, layout)
        misnamed = _misnamed_folder(p)
        if misnamed:  # beside the right folders, a near miss would be skipped silently
            folder, meant = misnamed
            where = (f"did you mean {meant}?" if meant != "workloads/" else
                     "a workload file goes in workloads/, a source's measurements in "
                     f"workloads/measurements/ (fleet files may sit in "
                     f"{', '.join(b + '/' for b in BESIDE)}, which the catalog does not read)")
            raise CatalogError(f"catalog directory '{p}' holds files in {folder}/, which the "
                               f"catalog does not read: {where}", option, layout)
        unread = _misnamed_file(p)
        if unread:  # a near miss of NAME.toml would be skipped silently (an override lost)
            raise CatalogError(f"catalog file '{unread[0]}' is not read: {unread[1]}", option,
                               f"files named KEY.toml ({KEY_FORM})")
    return Catalog(tuple(user))
