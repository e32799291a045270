"""The macOS sandbox-exec profile generated from a Policy (checked here; applied on a Mac)."""
from apaf.sandbox import macos
from apaf.sandbox.policy import Policy


def sample(**over):
    base = dict(app="chat", privileges=("outbound-tor",), read_only=("/b/app", "/b/python"),
                read_write=("/d/apps/chat", "/d/tmp/chat"), executables=("/b/bin/gpg",),
                connect_ports=(9050,), bind_ports=(), status_file="", serve_port=8080)
    return Policy(**{**base, **over})


def test_profile_denies_by_default_and_allows_exactly_the_policy():
    text = macos.profile(sample())
    lines = text.splitlines()
    assert lines[1:3] == ["(version 1)", "(deny default)"]
    assert '(allow file-read* (subpath "/b/app"))' in lines
    assert '(allow file-read* file-write* (subpath "/d/apps/chat"))' in lines
    assert '(allow process-exec (literal "/b/bin/gpg"))' in lines
    assert '(allow network-outbound (remote tcp "localhost:9050"))' in lines
    assert '(allow network-inbound (local tcp "localhost:8080"))' in lines  # accept, on the runtime's socket
    assert "network-bind" not in text
    # nothing else writable, executable or reachable
    assert sum("file-write" in l for l in lines) == 2
    assert sum("process-exec" in l for l in lines) == 1
    assert sum("network-outbound" in l for l in lines) == 1
    assert "(allow network*)" not in text and "(allow default)" not in text


def test_without_outbound_tor_no_connection_is_allowed():
    text = macos.profile(sample(privileges=(), connect_ports=(), executables=()))
    assert "network-outbound" not in text and "process-exec" not in text


def test_paths_are_quoted_so_a_name_cannot_add_a_rule():
    text = macos.profile(sample(read_only=('/b/a") (allow default) ("',)))
    assert '(allow default)' not in [l.strip() for l in text.splitlines()]
    assert '(subpath "/b/a\\") (allow default) (\\"")' in text


def test_wrap_command_runs_the_launcher_under_sandbox_exec(monkeypatch):
    monkeypatch.setattr(macos.os.path, "exists", lambda p: p == macos.SANDBOX_EXEC)
    argv = macos.wrap_command(sample(), ["/b/python", "-m", "apaf.apps.launch"])
    assert argv[:2] == [macos.SANDBOX_EXEC, "-p"] and argv[3:] == ["/b/python", "-m", "apaf.apps.launch"]
    assert '(allow process-exec (literal "/b/python"))' in argv[2]
