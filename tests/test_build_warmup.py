"""Kernel warm-up: what the template process imports, and that it covers the report notebooks."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from analysis.paths import FIGURES_ENV, ROOT
from analysis.publish import zygote

# Libraries that take a noticeable time to import: a report kernel must find them loaded.
HEAVY = {
    "pandas",
    "numpy",
    "matplotlib",
    "matplotlib_inline",
    "seaborn",
    "shapely",
    "pyproj",
    "geopandas",
    "jinja2",
    "mistune",
    "cn2an",
    "IPython",
    "debugpy",
}


def test_warm_up_follows_warm_imports_and_skips_what_is_not_a_module(
    tmp_path: Path, monkeypatch
) -> None:
    (tmp_path / "warm_a.py").write_text('WARM_IMPORTS = ("warm_b", "no_such_module")\n')
    (tmp_path / "warm_b.py").write_text('WARM_IMPORTS = ("warm_a",)\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("warm_a", "warm_b"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    done = zygote.warm_up(["warm_a", "warm_a.Literal", "json"])
    assert done == ["warm_a", "json", "warm_b"]
    assert "warm_b" in sys.modules


def test_kernel_argv_reads_the_kernelspec_from_the_jupyter_path(
    tmp_path: Path, monkeypatch
) -> None:
    folder = tmp_path / "kernels" / "warm-test"
    folder.mkdir(parents=True)
    argv = ["/opt/py/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (folder / "kernel.json").write_text(json.dumps({"argv": argv, "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    assert zygote.kernel_argv("warm-test") == argv
    assert zygote.interpreter(zygote.kernel_argv("warm-test")) == ["/opt/py/bin/python"]
    assert zygote.kernel_argv("no-such-kernel-here") == []


_RUN_NOTEBOOKS = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    from analysis.publish import zygote
    from analysis.publish.spec import load_spec

    spec = load_spec(Path("reports.toml"))
    modules = [m for r in spec.reports.values() for m in r.notebook_info.imports]
    zygote.warm_up(zygote.KERNEL_MODULES)
    zygote.warm_up(modules)
    warm = {name.split(".")[0] for name in sys.modules}

    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    failed = []
    for name in sys.argv[1:]:
        nb = json.loads(Path(f"notebooks/{name}.ipynb").read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                if not shell.run_cell("".join(cell["source"]), silent=True).success:
                    failed.append(name)
    new = sorted({name.split(".")[0] for name in sys.modules} - warm)
    print(json.dumps({"new": new, "failed": failed, "pandera": "pandera" in sys.modules}))
    """
)


def test_warm_up_covers_what_the_report_notebooks_import(tmp_path: Path) -> None:
    """The template process imports every heavy library the notebooks use, lazily or not."""
    script = tmp_path / "run_notebooks.py"
    script.write_text(_RUN_NOTEBOOKS, encoding="utf-8")
    names = ["province_profile", "source_audit"]
    figures = tmp_path / "figures"  # the charts the notebooks save, not into reports/
    env = {"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    env[FIGURES_ENV] = str(figures)
    done = subprocess.run(
        [sys.executable, str(script), *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["failed"] == []
    assert sorted(p.suffix for p in figures.iterdir()) == [".png", ".svg"]  # one province map
    assert not HEAVY.intersection(found["new"]), found["new"]
    # Tables are read without their pandera schemas (validated when written).
    assert found["pandera"] is False


def _stdout_of_built_cells(tmp_path: Path, name: str, sources: list[str], cells: int) -> list[str]:
    """Build a one-notebook project of code cells `sources` (the first one the parameters
    cell); return what the last `cells` of them printed."""
    import nbformat
    from buildkit import add_package, run, write_notebook

    project = add_package(tmp_path / "project")
    write_notebook(project / "notebooks" / f"{name}.ipynb", sources, name)
    (project / "reports.toml").write_text(
        f"[defaults]\nformats = []\ninputs = []\n\n[reports.{name}]\n"
        f'notebook = "notebooks/{name}.ipynb"\n',
        encoding="utf-8",
    )
    summary, text = run(project, jobs=1)
    assert summary.exit_code == 0, text
    executed = nbformat.read(project / "reports" / "notebooks" / f"{name}.ipynb", as_version=4)
    return [cell.outputs[0]["text"] for cell in executed.cells[-cells:]]


def test_pandas_in_a_forked_kernel_formats_as_in_a_plain_kernel(tmp_path: Path) -> None:
    # Old code: the template process imported pandas before any IPython kernel existed, so
    # pandas took itself to be in a terminal (display.max_columns 0: fit the terminal's width)
    # and every forked kernel printed frames differently from a Jupyter kernel (20 columns).
    sources = ["x = 1", "import pandas as pd", "print(pd.get_option('display.max_columns'))"]
    assert _stdout_of_built_cells(tmp_path, "frames", sources, 1) == ["20\n"]


def test_a_forked_kernel_starts_on_a_frozen_heap_and_keeps_no_history(tmp_path: Path) -> None:
    # The template process freezes what it imported before it forks (`gc.freeze`): a kernel's
    # collections then never walk, or copy on write, the template's objects. And a build's
    # kernel keeps no IPython history database (its writer thread cost CPU for nothing).
    sources = [
        "x = 1",
        "import gc\nprint(gc.get_freeze_count() > 10000, gc.isenabled())",
        "shell = get_ipython()\nprint(shell.history_manager.enabled, len(In) > 2)",
    ]
    printed = _stdout_of_built_cells(tmp_path, "heap", sources, 2)
    assert printed == ["True True\n", "False True\n"]


class _Channel:
    """A stub of a client channel: hands out the queued messages, then raises Empty."""

    def __init__(self, messages: list[dict]) -> None:
        self.messages = list(messages)
        self.timeouts: list[float] = []

    async def get_msg(self, timeout: float | None = None) -> dict:
        import asyncio
        import time
        from queue import Empty

        self.timeouts.append(timeout)
        deadline = time.monotonic() + (timeout or 0)
        while not self.messages:
            if time.monotonic() >= deadline:
                raise Empty
            await asyncio.sleep(0.005)
        return self.messages.pop(0)


def _status(state: str, parent: str) -> dict:
    return {
        "msg_type": "status",
        "parent_header": {"msg_id": parent},
        "content": {"execution_state": state},
    }


def test_the_kernel_client_is_ready_when_its_kernel_info_is_answered_not_after_a_silence():
    """`zygote.client_class`: ready once the kernel_info reply and that request's idle status
    on IOPub have come; it reads nothing more (jupyter_client read IOPub until 0.2 s passed
    without a message, before every notebook). A request whose status never comes is sent
    again, and the later one's answer counts."""
    import asyncio

    client = zygote.client_class()()
    sent: list[str] = []

    def kernel_info() -> str:
        sent.append(f"k{len(sent)}")
        return sent[-1]

    client.kernel_info = kernel_info
    reply = {
        "msg_type": "kernel_info_reply",
        "content": {"protocol_version": "5.3"},
        "parent_header": {"msg_id": "k0"},
    }
    # IOPub first carries another request's status, then k0's busy and idle, then more.
    other, later = _status("idle", "elsewhere"), _status("busy", "next")
    client._shell_channel = _Channel([reply])
    client._iopub_channel = _Channel([other, _status("busy", "k0"), _status("idle", "k0"), later])
    asyncio.run(client.wait_for_ready(timeout=5))
    assert sent == ["k0"]
    assert client._iopub_channel.messages == [later]  # not read: it is not the answer's
    # The first request's status is lost (IOPub not yet subscribed): asked again.
    first = {**reply, "parent_header": {"msg_id": "k0"}}
    second = {**reply, "parent_header": {"msg_id": "k1"}}
    client._shell_channel = _Channel([first, second])
    client._iopub_channel = _Channel([])
    sent.clear()

    async def later_idle() -> None:
        while "k1" not in sent:  # the kernel answers the second request only
            await asyncio.sleep(0.005)
        client._iopub_channel.messages.append(_status("idle", "k1"))

    async def both() -> None:
        await asyncio.gather(client.wait_for_ready(timeout=5), later_idle())

    asyncio.run(both())
    assert sent == ["k0", "k1"]
