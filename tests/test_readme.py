"""README's commands as a new user copies them: they write where a user expects and read as
what they are."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _commands() -> list[list[str]]:
    """Every `oneroster-harness` command line in README's sh blocks, split as a shell would."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines()
    return [shlex.split(line, comments=True) for line in lines if "oneroster-harness " in line]


def test_csv_examples_write_outside_the_repository() -> None:
    targets = [words[words.index("--csv") + 1] for words in _commands() if "--csv" in words]
    assert targets, "README shows no --csv example"
    assert all(Path(target).is_absolute() for target in targets), targets


def test_bad_kinds_are_arguments_of_the_example_after_the_separator() -> None:
    with_bad = [words for words in _commands() if "--bad" in words]
    assert with_bad, "README shows no --bad example"
    for words in with_bad:
        separator = words.index("--")
        assert words.index("--bad") > separator + 1
        assert words[separator + 2] == "tests/consumers/example.py"


def test_admin_commands_show_their_url_option() -> None:
    admin = [words for words in _commands() if words[1] in ("tick", "rollover", "reset")]
    assert any("--url" in words for words in admin)
    assert re.search(r"`--url`\s+\(default\s+`http://127\.0\.0\.1:8000`",
                     README.read_text(encoding="utf-8"))


def test_ci_runs_exactly_the_test_command_readme_gives() -> None:
    text = README.read_text(encoding="utf-8")
    after = text.split("**Run the tests**", 1)[1]
    command = re.search(r"```sh\n(.*?)\n```", after, flags=re.S).group(1).strip()
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1].strip() == command
