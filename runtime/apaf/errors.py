"""The runtime's exception tree: every failure a user can meet, with a message that says the fix.

    ApafError                 base; `exit_code` is what `apaf` exits with
    ├── ManifestError         apaf.toml missing/invalid (names the file, the field and the fix)
    ├── ConfigError           bad command-line option, data dir or settings.json
    │   ├── NotUnderRuntime   an app used the library (apaf.connect, ...) without the runtime's APAF_* env
    │   └── BinaryNotFound    apaf.binary(name): not listed in extra_binaries, not granted, or not built
    ├── TorError              tor problems
    │   ├── TorNotFound       no tor binary (bundled, APAF_TOR, PATH)
    │   ├── TorStartError     tor exited or did not open its control port while starting
    │   └── TorrcRejected     the editor's allowlist or tor refused the user's extra torrc lines
    ├── OnionError            ADD_ONION/DEL_ONION failed, or a key file is unusable
    ├── AppError              an app could not be started (bad entry point, crashed at start)
    └── PasswordHashError     the admin password's scrypt child failed (apaf.admin.password)

Callers catch `ApafError` at the top (the CLI prints `str(err)` and exits with
`err.exit_code`); everything else is a bug and keeps its traceback.
"""
from __future__ import annotations


class ApafError(Exception):
    """Base of every expected runtime failure."""

    exit_code = 1


class ManifestError(ApafError):
    exit_code = 2


class ConfigError(ApafError):
    exit_code = 2


class NotUnderRuntime(ConfigError):
    """An APAF_* variable the library needs is missing: the code is not run by `apaf run`."""


class BinaryNotFound(ConfigError):
    """apaf.binary(name): the program is not listed, not granted (run-binaries) or not there."""


class TorError(ApafError):
    exit_code = 3


class TorNotFound(TorError):
    exit_code = 4


class TorStartError(TorError):
    exit_code = 5


class TorrcRejected(TorError):
    """The allowlist (apaf.tor.policy) or tor refused the text; the message names the line and why."""

    exit_code = 6


class OnionError(ApafError):
    exit_code = 7


class AppError(ApafError):
    exit_code = 8
