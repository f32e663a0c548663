#!/usr/bin/env python3
"""The dependency rules of the tree that the compiler does not enforce (docs/architecture.md).

  1. The shared foundations import no domain: `app/src/db` (the seam), `app/src/rest` (what every
     domain's REST shares), `app/src/ui`, `request.rs`, `settings.rs`, `error.rs`; `app/src/audit`
     knows no other domain either (every domain records through it, never the reverse).
  2. No arrow runs back up: a domain never imports the composition root (`crate::state`, which
     names every service) nor anything defined in `lib.rs` (`crate::App`, `crate::shell`, ...).
  3. No circles between files: two files never import each other (a folder module and its own
     children aside: `use super::*` is how a split file reads its parent).

Prints one line per violation and exits 1 if there is any.
`--self-test` plants one violation of each kind in a copy of the tree and fails unless the
check catches every one (and passes on the unplanted copy).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# folder or file (relative to app/src) -> the modules of this crate it may name as `crate::<m>`
FOUNDATIONS = {
    "db": {"db", "testing", "error"},
    "rest": {"rest", "error", "request"},
    "ui": {"ui", "error"},
    "request.rs": {"request", "error"},
    "settings.rs": {"settings"},
    "error.rs": {"error", "db"},
    "audit": {"audit", "db", "request", "error"},
}
# Modules that compose the domains: they may name anything.
ROOTS = {"lib.rs", "state.rs", "testing.rs"}


def rust_files(src):
    for folder, _, files in os.walk(src):
        for name in sorted(files):
            if name.endswith(".rs"):
                yield os.path.join(folder, name)


def module_path(src, path):
    parts = os.path.relpath(path, src)[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return tuple(parts)


def code_of(text):
    """The text without comments (a doc comment may name anything)."""
    return re.sub(r"//[^\n]*", "", text)


def check(src):
    files = {p: code_of(open(p, encoding="utf-8").read()) for p in rust_files(src)}
    modules = {module_path(src, p): p for p in files}
    root_items = set(re.findall(r"^pub (?:fn|struct|enum|const|static) (\w+)", files[os.path.join(src, "lib.rs")], re.M))
    problems = []

    def owner(path):
        rel = os.path.relpath(path, src)
        top = rel.split(os.sep)[0]
        return top

    # 1 and 2: what each file names as crate::<module>
    for path, text in files.items():
        top = owner(path)
        rel = os.path.relpath(path, src)
        if top in ROOTS:
            continue
        named = re.findall(r"\bcrate::(\{|[A-Za-z_]\w*)", text)
        if top in FOUNDATIONS:
            allowed = FOUNDATIONS[top]
            for name in named:
                if name == "{" or name not in allowed:
                    problems.append(f"app/src/{rel}: {top} may not import crate::{name} (allowed: {' '.join(sorted(allowed))})")
        for name in named:
            if name == "state":
                problems.append(f"app/src/{rel}: imports crate::state, the composition root (a domain reaches its own service)")
            elif name in root_items:
                problems.append(f"app/src/{rel}: imports crate::{name} from lib.rs (an arrow back up)")
        if "super::super" in text and top in FOUNDATIONS:
            problems.append(f"app/src/{rel}: super::super reaches outside the folder")

    # 3: two files that import each other
    def resolve(parts):
        for i in range(len(parts), 0, -1):
            if tuple(parts[:i]) in modules:
                return modules[tuple(parts[:i])]
        return None

    edges = set()
    for path, text in files.items():
        if path.endswith(os.sep + "tests.rs"):
            continue
        cut = text.find("#[cfg(test)]\nmod tests {")
        if cut >= 0:
            text = text[:cut]
        me = module_path(src, path)
        for kind, tail in re.findall(r"\b(crate|super)((?:::\w+)+)", text):
            segments = tail.split("::")[1:]
            if kind == "crate":
                base = []
            else:
                base = list(me[:-1])
                while segments and segments[0] == "super":
                    base, segments = base[:-1], segments[1:]
            target = resolve(base + segments)
            if target and target != path:
                edges.add((path, target))

    def nested(a, b):
        ma, mb = module_path(src, a), module_path(src, b)
        return mb[: len(ma)] == ma or ma[: len(mb)] == mb

    for a, b in sorted({tuple(sorted(e)) for e in edges if (e[1], e[0]) in edges and not nested(*e)}):
        problems.append(f"app/src/{os.path.relpath(a, src)} <-> app/src/{os.path.relpath(b, src)}: the two files import each other")
    return problems


PLANTS = [
    ("a domain imports the state", "pipelines/approval.rs", "use crate::state::AppState;\n"),
    ("an arrow back up to lib.rs", "catalog/model.rs", "#[allow(unused_imports)]\nuse crate::shell;\n"),
    ("app/src/rest imports a domain", "rest/doc.rs", "use crate::pipelines::PipelineService;\n"),
    ("the database seam imports a domain", "db/mod.rs", "use crate::identity::Role;\n"),
    ("two files import each other", "pipelines/approval.rs", "use super::views::ListFilter;\n"),
]


def self_test():
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        clean = os.path.join(tmp, "src")
        shutil.copytree(os.path.join(ROOT, "app", "src"), clean)
        if check(clean):
            failures.append("the unplanted copy has violations")
        for what, rel, line in PLANTS:
            copy = os.path.join(tmp, "planted")
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(clean, copy)
            target = os.path.join(copy, rel)
            with open(target, encoding="utf-8") as f:
                text = f.read()
            with open(target, "w", encoding="utf-8") as f:
                f.write(line + text)
            found = check(copy)
            if not found:
                failures.append(f"not caught: {what} ({rel})")
            else:
                print(f"caught: {what}: {found[0]}")
    for failure in failures:
        print(failure)
    return 1 if failures else 0


def main():
    if "--self-test" in sys.argv:
        return self_test()
    problems = check(os.path.join(ROOT, "app", "src"))
    for problem in problems:
        print(problem)
    if problems:
        print(f"layout check: {len(problems)} import(s) break the folder rules (docs/architecture.md)")
        return 1
    print("layout check: foundations import no domain, no domain imports the state or lib.rs, no two files import each other")
    return 0


if __name__ == "__main__":
    sys.exit(main())
