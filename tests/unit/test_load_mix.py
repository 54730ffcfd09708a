"""The load mix's Locust command line, which `make loadtest`, `make cost` and the saturation curve share."""

import argparse
import sys
from pathlib import Path

import pytest

import loadtest.mix
from loadtest.mix import duration_seconds, locust_command


def option_values(command: list[str]) -> dict[str, str | None]:
    """Each ``--option`` of a command line with the word after it (None for a flag)."""
    values: dict[str, str | None] = {}
    for index, word in enumerate(command):
        if word.startswith("-"):
            following = command[index + 1] if index + 1 < len(command) else None
            values[word] = None if following is None or following.startswith("-") else following
    return values


def test_the_command_runs_the_locustfile_headless_with_the_runs_figures():
    command = locust_command(150, 5, "180s", Path("/tmp/results/users150"))
    assert command[0] == str(Path(sys.executable).with_name("locust"))
    assert option_values(command) == {
        "-f": "loadtest/locustfile.py",
        "--headless": None,
        "--users": "150",
        "--spawn-rate": "5",
        "--run-time": "180s",
        "--stop-timeout": "5",
        "--csv": "/tmp/results/users150",
        "--only-summary": None,
    }


def test_an_html_report_is_asked_for_only_when_given_a_path():
    assert "--html" not in locust_command(100, 10, "3m", "run")
    assert option_values(locust_command(100, 10, "3m", "run", html="out/report.html"))["--html"] == "out/report.html"


def test_the_module_becomes_locust_with_the_make_targets_arguments(monkeypatch):
    replaced_by = []
    monkeypatch.setattr(loadtest.mix.os, "execv", lambda path, argv: replaced_by.append((path, argv)))
    loadtest.mix.main(
        [
            "--users",
            "200",
            "--spawn-rate",
            "10",
            "--duration",
            "3m",
            "--csv",
            ".local/loadtest/run",
            "--html",
            ".local/loadtest/report.html",
        ]
    )
    [(path, argv)] = replaced_by
    assert path == argv[0] == str(Path(sys.executable).with_name("locust"))
    values = option_values(argv)
    assert (values["--users"], values["--spawn-rate"], values["--run-time"]) == ("200", "10", "3m")
    assert (values["--csv"], values["--html"]) == (".local/loadtest/run", ".local/loadtest/report.html")


@pytest.mark.parametrize(("text", "seconds"), [("120s", 120), ("3m", 180), ("0s", 0)])
def test_a_run_time_is_read_in_seconds_or_minutes(text, seconds):
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["180", "1h", "3 m", "m", ""])
def test_other_run_times_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        duration_seconds(text)


def test_the_load_tools_refuse_a_run_time_as_a_usage_error(capsys):
    import loadtest.saturation

    with pytest.raises(SystemExit) as exit_info:
        loadtest.saturation.main(["--users", "100", "--duration", "180"])
    assert exit_info.value.code == 2
    assert "'180': a number of seconds or minutes" in capsys.readouterr().err
