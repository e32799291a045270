"""App processes without tor: the launcher, the contract environment, bad entry points, stop,
the listening socket the runtime holds across restarts. ~8 s."""
import ipaddress
import json
import os
import socket
import sys
import urllib.request

import pytest

from apaf.apps import LAUNCH_FLAG, AppProcess, launch_command
from apaf.apps import process as app_process
from apaf.errors import AppError
from apaf.manifest import load_manifest


def make_app(tmp_path, entry, code):
    (tmp_path / "apaf.toml").write_text(f'[app]\nname = "t"\nversion = "1"\nentry = "{entry}"\n')
    (tmp_path / "t_app.py").write_text(code)
    return load_manifest(tmp_path)


async def test_app_serves_on_loopback_with_its_env_and_stops(tmp_path, envecho_app):
    app = AppProcess(load_manifest(envecho_app), data_dir=tmp_path / "d", log_path=tmp_path / "log",
                     env={"APAF_ONION_ADDRESS": "x" * 56 + ".onion"})
    await app.start()
    try:
        with urllib.request.urlopen(f"http://{app.host}:{app.port}/", timeout=10) as r:
            env = json.load(r)
        assert env["APAF_ONION_ADDRESS"] == "x" * 56 + ".onion" and env["APAF_PORT"] == str(app.port)
        assert env["data_dir_mode"] == "0o700" and app.running
    finally:
        await app.stop()
    assert not app.running and app.proc.returncode is not None


async def test_app_gets_its_contract_variables_and_not_the_users_session(tmp_path, envecho_app, monkeypatch):
    """An app learnt the runtime's whole environment: the user's agent socket, session bus, tokens."""
    leaks = {"SSH_AUTH_SOCK": "/run/user/1000/ssh-agent", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus",
             "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG", "DISPLAY": ":0", "https_proxy": "http://10.0.0.1:3128",
             "USER": "alice"}
    for name, value in leaks.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LC_TIME", "C.UTF-8")
    app = AppProcess(load_manifest(envecho_app), data_dir=tmp_path / "d", log_path=tmp_path / "log",
                     env={"APAF_ONION_ADDRESS": "x" * 56 + ".onion"}, tmp_dir=tmp_path / "tmp")
    await app.start()
    try:
        with urllib.request.urlopen(f"http://{app.host}:{app.port}/", timeout=10) as r:
            env = json.load(r)
    finally:
        await app.stop()
    assert not set(leaks) & set(env["env_names"]), env["env_names"]
    assert {"APAF_ONION_ADDRESS", "APAF_PORT", "APAF_DATA_DIR", "APAF_APP_DIR", "APAF_ENTRY", "PATH",
            "LC_TIME"} <= set(env["env_names"]), env["env_names"]
    assert env["HOME"] == str(tmp_path / "d") and env["TMPDIR"] == str(tmp_path / "tmp")
    if sys.platform == "linux" and os.geteuid() == 0:  # never root: the app's own uid and gid
        from apaf.sandbox.account import FIRST_UID, LAST_UID, app_uid
        assert env["uid"] == env["gid"] == app_uid("envecho") and FIRST_UID <= env["uid"] <= LAST_UID, env
        assert (tmp_path / "d").stat().st_uid == (tmp_path / "tmp").stat().st_uid == env["uid"]


async def test_bad_entry_point_names_the_manifest_field(tmp_path):
    m = make_app(tmp_path, "t_app:nope", "def main():\n    pass\n")
    app = AppProcess(m, data_dir=tmp_path / "d", log_path=tmp_path / "log", env={}, ready_timeout=15)
    with pytest.raises(AppError) as err:
        await app.start()
    assert "did not start serving" in str(err.value)
    assert "apaf.toml: [app].entry: cannot load 't_app:nope'" in str(err.value)


def test_frozen_bundle_relaunches_itself(monkeypatch):
    assert launch_command() == [sys.executable, "-P", "-s", "-m", "apaf.apps.launch"]
    monkeypatch.setattr(app_process.sys, "frozen", True, raising=False)
    assert launch_command() == [sys.executable, LAUNCH_FLAG]


@pytest.mark.skipif(sys.platform != "linux", reason="the Linux sandbox confines the launcher")
def test_app_module_named_like_a_standard_one_is_not_run_before_the_sandbox(tmp_path):
    """The launcher runs in the app's directory: `python -m` put it first on sys.path, so an
    app's tomllib.py ran, unconfined, when the launcher read the manifest."""
    import subprocess
    app_dir, outside = tmp_path / "app", tmp_path / "outside"
    app_dir.mkdir()
    (app_dir / "apaf.toml").write_text('[app]\nname = "t"\nversion = "1"\nentry = "t_app:main"\n')
    (app_dir / "t_app.py").write_text("def main():\n    print('entry ran')\n")
    (app_dir / "tomllib.py").write_text(f"open({str(outside)!r}, 'w').write('unconfined')\n"
                                        "raise SystemExit('the app replaced tomllib')\n")
    env = {**os.environ, "APAF_ENTRY": "t_app:main", "APAF_APP_DIR": str(app_dir),
           "APAF_DATA_DIR": str(tmp_path / "d" / "apps" / "t"), "APAF_PORT": "0"}
    (tmp_path / "d" / "apps" / "t").mkdir(parents=True)
    out = subprocess.run(launch_command(), cwd=app_dir, env=env, capture_output=True, text=True,
                         timeout=60)
    assert not outside.exists(), out.stderr
    assert out.returncode == 0 and "entry ran" in out.stdout, out.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="the Linux sandbox confines the launcher")
def test_pth_file_the_app_left_in_its_home_is_not_run_before_the_sandbox(tmp_path, monkeypatch):
    """HOME is the app's data directory: a Python outside a venv ran the .pth files of
    ~/.local/lib/pythonX.Y/site-packages when the app process started, before the sandbox (as
    root under a root runtime). An app wrote one there, crashed, and its restart ran it."""
    import site
    import subprocess

    import apaf
    python = getattr(sys, "_base_executable", sys.executable)  # outside the venv: user site on
    app_dir, data, outside = tmp_path / "app", tmp_path / "d" / "apps" / "t", tmp_path / "outside"
    app_dir.mkdir()
    (app_dir / "apaf.toml").write_text('[app]\nname = "t"\nversion = "1"\nentry = "t_app:main"\n')
    (app_dir / "t_app.py").write_text("def main():\n    print('entry ran')\n")
    user_site = data / ".local" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    user_site.mkdir(parents=True)
    (user_site / "zz_app.pth").write_text(f"import os; open({str(outside)!r}, 'w').write('unconfined')\n")
    env = {**os.environ, "HOME": str(data), "APAF_ENTRY": "t_app:main", "APAF_APP_DIR": str(app_dir),
           "APAF_DATA_DIR": str(data), "APAF_PORT": "0",
           "PYTHONPATH": os.pathsep.join([os.path.dirname(os.path.dirname(apaf.__file__)), *site.getsitepackages()])}
    env.pop("PYTHONNOUSERSITE", None)
    subprocess.run([python, "-c", "pass"], env=env, timeout=60)
    if not outside.exists():
        pytest.skip(f"{python} reads no user site-packages here")
    outside.unlink()
    monkeypatch.setattr(app_process.sys, "executable", python)
    out = subprocess.run(launch_command(), cwd=app_dir, env=env, capture_output=True, text=True, timeout=60)
    assert not outside.exists(), out.stderr
    assert out.returncode == 0 and "entry ran" in out.stdout, out.stderr


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(sys.platform != "linux", reason="needs /proc")
def test_app_whose_runtime_died_before_it_started_exits(tmp_path):
    """kill -9 of the runtime while an app process is still starting (before the launcher's
    first line, ~0.1 s): it took init for its runtime and watched it for ever, serving on."""
    import subprocess
    import time

    from apaf.apps import RUNTIME_PID
    app_dir, data, out = tmp_path / "app", tmp_path / "d" / "apps" / "t", tmp_path / "out"
    app_dir.mkdir()
    data.mkdir(parents=True)
    (app_dir / "apaf.toml").write_text('[app]\nname = "t"\nversion = "1"\nentry = "t_app:main"\n')
    (app_dir / "t_app.py").write_text("import time\ndef main():\n    print('app running', flush=True)\n"
                                      "    time.sleep(120)\n")
    env = {**os.environ, "APAF_ENTRY": "t_app:main", "APAF_APP_DIR": str(app_dir),
           "APAF_DATA_DIR": str(data), "APAF_PORT": "0"}
    # The stand-in runtime starts the app, naming itself as the runtime does, and is gone at once.
    argv = " ".join(f"'{a}'" for a in launch_command())
    pid = int(subprocess.run(["sh", "-c", f'{RUNTIME_PID}=$$ {argv} > {out} 2>&1 & echo $!'], cwd=app_dir,
                             env=env, capture_output=True, text=True, check=True, timeout=30).stdout)
    try:
        deadline = time.monotonic() + 60
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _gone(pid), out.read_text()
    finally:
        if not _gone(pid):
            os.kill(pid, 9)


def test_cli_launch_flag_runs_the_app_entry(tmp_path):
    import subprocess

    m = make_app(tmp_path, "t_app:main",
                 "import os\ndef main():\n    open(os.environ['OUT'], 'w').write('ran')\n")
    env = {**os.environ, "APAF_ENTRY": m.entry, "APAF_APP_DIR": str(m.app_dir), "OUT": str(tmp_path / "out")}
    subprocess.run([sys.executable, "-c", f"from apaf.cli import main; main([{LAUNCH_FLAG!r}])"],
                   env=env, check=True, timeout=30)
    assert (tmp_path / "out").read_text() == "ran"


def _squat(host: str, port: int, reuse: bool) -> str:
    """Try to bind host:port as another local program would; its error, or "squatting"."""
    with socket.socket() as s:
        if reuse:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_REUSEPORT", socket.SO_REUSEADDR), 1)
        try:
            s.bind((host, port))
        except OSError as err:
            return f"refused: {err.strerror}"
        return "squatting"


@pytest.mark.skipif(sys.platform == "win32", reason="Windows: the app binds its own port (apaf.apps.handover)")
async def test_app_port_cannot_be_squatted_while_the_app_restarts(tmp_path, envecho_app):
    """Red-team finding: while the app was down, any local user could bind its port and answer
    the onion's visitors. The runtime holds the socket: the port stays taken, and a visitor who
    connects during the restart is answered by the restarted app."""
    import asyncio
    import signal

    app = AppProcess(load_manifest(envecho_app), data_dir=tmp_path / "d", log_path=tmp_path / "log",
                     env={"APAF_ONION_ADDRESS": "x" * 56 + ".onion"})
    await app.start()
    try:
        host, port, down = app.host, app.port, app.proc
        os.killpg(down.pid, signal.SIGKILL)  # a crash
        await down.wait()
        # No await from here to the check: the supervisor (same loop) cannot restart the app yet.
        for reuse in (False, True):
            assert _squat(host, port, reuse) == "refused: Address already in use", reuse
        assert app.proc is down  # the squats ran while the app was down
        waiting = await asyncio.open_connection(host, port)  # a visitor, during the restart
        waiting[1].write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = await asyncio.wait_for(waiting[0].read(), 30)
        waiting[1].close()
        assert answer.startswith(b"HTTP/1.1 200") and app.port == port and app.host == host, answer
        for _ in range(100):  # the supervisor counts the restart once it hears the app is ready
            if app.restarts:
                break
            await asyncio.sleep(0.05)
        assert app.restarts == 1
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["pid"] == app.proc.pid != down.pid
        with urllib.request.urlopen(f"http://{host}:{port}/", timeout=10) as r:
            assert json.load(r)["APAF_PORT"] == str(port)
        crashed = app.proc
        await app.restart()  # on purpose (a settings change): the same socket again
        with urllib.request.urlopen(f"http://{host}:{port}/", timeout=10) as r:
            assert json.load(r)["pid"] == app.proc.pid != crashed.pid
    finally:
        await app.stop()
    with pytest.raises(ConnectionRefusedError):  # stopped: the runtime's socket is closed too
        socket.create_connection((host, port), timeout=5).close()


async def test_an_app_that_never_takes_its_socket_did_not_start(tmp_path):
    """The runtime's own socket accepts whatever the app does: readiness is the app's word."""
    m = make_app(tmp_path, "signal:pause", "")  # serves nothing, never exits (readable as any uid)
    app = AppProcess(m, data_dir=tmp_path / "d", log_path=tmp_path / "log", env={}, ready_timeout=2)
    with pytest.raises(AppError) as err:
        await app.start()
    assert f"did not start serving on {app.host}:{app.port}" in str(err.value)
    assert not app.running
    await app.stop()



def _reaches_envecho(url: str) -> bool:
    """Whether url answers as the envecho app (another program may hold the same port number
    on 127.0.0.1: ports are per address)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return "APAF_PORT" in json.load(r)
    except (OSError, ValueError):
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="Linux answers on all of 127.0.0.0/8; macOS on 127.0.0.1 only")
async def test_apps_listen_where_a_web_page_cannot_find_them(tmp_path, envecho_app):
    """A page in the owner's browser could try http://127.0.0.1:PORT/ for every port and, by
    loading something the onion site serves, learn that this machine serves it. Each app now
    listens on a random address of 127.0.0.0/8: 127.0.0.1 has nothing on its port."""
    apps = [AppProcess(load_manifest(envecho_app), data_dir=tmp_path / f"d{i}", log_path=tmp_path / f"log{i}",
                       env={"APAF_ONION_ADDRESS": "x" * 56 + ".onion"}) for i in range(2)]
    for app in apps:
        await app.start()
    try:
        for app in apps:
            assert ipaddress.ip_address(app.host).is_loopback and app.host != "127.0.0.1", app.host
            with urllib.request.urlopen(f"http://{app.host}:{app.port}/", timeout=10) as r:
                assert json.load(r)["APAF_PORT"] == str(app.port)
            assert not _reaches_envecho(f"http://127.0.0.1:{app.port}/"), app.port
    finally:
        for app in apps:
            await app.stop()
