"""Fetch or check the GraphiQL files outboundql ships (``src/static/graphiql``), so the IDE works with no internet.

    .venv/bin/python scripts/graphiql_assets.py fetch   # after upgrading strawberry: needs npm and its registry
    .venv/bin/python scripts/graphiql_assets.py check   # offline: what CI runs (tests/test_graphiql_assets.py)

``fetch`` reads the files the installed strawberry's GraphiQL page loads from the CDN (with their versions and
``integrity`` hashes), downloads each package with ``npm pack <name>@<version>``, keeps only those files and the
package's licence, refuses any file whose SHA-384 differs from strawberry's hash, and removes folders of versions
the page no longer loads. ``check`` verifies that every file is there with strawberry's hash and every package has
its licence, and that nothing else is shipped. Exit status 1 and one line per problem when something is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from outboundql.gql.graphiql import ASSETS_DIR, Asset, assets

# Licences an npm package does not carry itself: @graphiql/plugin-explorer ships no licence file (its package.json
# says MIT; it lives in the graphql/graphiql repository, whose licence graphiql's package carries) and its bundle
# includes graphiql-explorer, a package of its own. package -> [(npm package to take LICENSE from, file name)].
BORROWED_LICENCES: dict[str, list[tuple[str, str]]] = {
    "@graphiql/plugin-explorer": [("graphiql@3.8.3", "LICENSE"),
                                  ("graphiql-explorer@0.9.0", "LICENSE.graphiql-explorer")],
}


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def _name(package: str) -> str:
    return package.rsplit("@", 1)[0]  # "@graphiql/plugin-explorer@1.0.2" -> "@graphiql/plugin-explorer"


def _npm_pack(spec: str, workdir: Path) -> tarfile.TarFile:
    out = subprocess.run(["npm", "pack", "--silent", spec], cwd=workdir, capture_output=True, text=True, check=True)
    return tarfile.open(workdir / out.stdout.strip().splitlines()[-1])


def _member(tarball: tarfile.TarFile, path: str) -> bytes | None:
    try:
        file = tarball.extractfile(f"package/{path}")
    except KeyError:
        return None
    return file.read() if file is not None else None


def expected_files() -> dict[Path, str | None]:
    """Every file that should be shipped, with the integrity it must have (``None``: a licence)."""
    files: dict[Path, str | None] = {}
    for asset in assets():
        files[ASSETS_DIR / asset.path] = asset.integrity
        licences = BORROWED_LICENCES.get(_name(asset.package), [("", "LICENSE")])
        for _source, name in licences:
            files[ASSETS_DIR / asset.package / name] = None
    return files


def fetch() -> list[str]:
    problems: list[str] = []
    by_package: dict[str, list[Asset]] = {}
    for asset in assets():
        by_package.setdefault(asset.package, []).append(asset)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for package, files in by_package.items():
            target = ASSETS_DIR / package
            tarball = _npm_pack(package, workdir)
            for asset in files:
                data = _member(tarball, asset.file)
                if data is None:
                    problems.append(f"{asset.path}: not in the npm package {package}")
                elif sri(data) != asset.integrity:
                    problems.append(f"{asset.path}: npm's file is {sri(data)}, strawberry pins {asset.integrity}")
                else:
                    (target / asset.file).parent.mkdir(parents=True, exist_ok=True)
                    (target / asset.file).write_bytes(data)
            for source, name in BORROWED_LICENCES.get(_name(package), [("", "LICENSE")]):
                licence = _member(_npm_pack(source, workdir) if source else tarball, "LICENSE")
                if licence is None:
                    problems.append(f"{package}: no LICENSE in the npm package {source or package}")
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    (target / name).write_bytes(licence)
    _remove_unexpected()
    return problems


def _shipped() -> set[Path]:
    return {path for path in ASSETS_DIR.rglob("*") if path.is_file()}


def _remove_unexpected() -> None:
    for path in _shipped() - set(expected_files()):
        path.unlink()
    for folder in sorted((p for p in ASSETS_DIR.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(folder.iterdir()):
            folder.rmdir()


def check() -> list[str]:
    problems: list[str] = []
    expected = expected_files()
    for path, integrity in expected.items():
        shown = path.relative_to(ASSETS_DIR)
        if not path.is_file():
            problems.append(f"{shown}: missing (run `scripts/graphiql_assets.py fetch`)")
        elif integrity is not None and sri(path.read_bytes()) != integrity:
            problems.append(f"{shown}: is {sri(path.read_bytes())}, strawberry's page pins {integrity}")
    for path in sorted(_shipped() - set(expected)):
        problems.append(f"{path.relative_to(ASSETS_DIR)}: not loaded by the page (run `scripts/graphiql_assets.py "
                        "fetch` to remove it)")
    return problems


def main(argv: list[str]) -> int:
    if argv not in (["fetch"], ["check"]):
        print(__doc__, file=sys.stderr)
        return 2
    if argv == ["fetch"] and shutil.which("npm") is None:
        print("npm is needed to fetch the files (apt-get install npm)", file=sys.stderr)
        return 2
    problems = fetch() if argv == ["fetch"] else check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"ok: {len(assets())} files and their licences in {ASSETS_DIR}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
