# PyInstaller hook (--additional-hooks-dir): stem imports these only inside functions that
# probe the interpreter (stem.prereq.is_sqlite_available, is_mock_available) and in its
# manual database and test helpers, none of which the runtime calls. Excluded here, for
# stem alone: the bundle still carries sqlite3 or unittest when the app imports them.
excludedimports = ["sqlite3", "unittest"]
