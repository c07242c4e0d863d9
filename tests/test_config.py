"""Precedence, validation and the state file: flag > FOUNDATIONS_* > config file > state file > default."""

import json

import pytest

from foundations import config, state
from foundations.errors import ConfigError


def load(argv=(), env=None, **kw):
    return config.load(argv=list(argv), environ=env or {}, **kw)


def test_defaults_are_the_book_ports_and_credentials(tmp_path):
    cfg = load(["--state-dir", str(tmp_path)])
    assert cfg.port == 8080 and cfg.mysql_dsn == "mysql://api:api@127.0.0.1:3390/api"
    assert cfg.sources["redis_url"] == "default"


@pytest.mark.parametrize(
    "argv, env, port",
    [
        ([], {}, 8080),  # the book's `run`
        (["--port", "80"], {}, 80),  # -port=80
        ([], {"PORT": "80"}, 8080),  # PORT=80 is ignored: not our prefix
        ([], {"FOUNDATIONS_PORT": "80"}, 80),  # GO_PORT=80 in the book
        (["--port", "81"], {"FOUNDATIONS_PORT": "80"}, 81),
    ],
)
def test_book_precedence_table(argv, env, port, tmp_path):
    assert load([*argv, "--state-dir", str(tmp_path)], env).port == port


def test_config_file_sits_between_env_and_state(tmp_path):
    file = tmp_path / "f.toml"
    file.write_text('port = 9000\nredis_url = "redis://127.0.0.1:7000/0"\n')
    cfg = load(["--config", str(file), "--state-dir", str(tmp_path)], {"FOUNDATIONS_PORT": "9001"})
    assert (cfg.port, cfg.redis_url) == (9001, "redis://127.0.0.1:7000/0")
    assert cfg.sources["redis_url"] == f"file {file}"


def test_state_file_is_used_only_while_its_processes_live(tmp_path):
    state.write(
        tmp_path,
        {
            "mode": "local",
            "endpoints": {"redis_url": "redis://127.0.0.1:7001/0"},
            "processes": {"redis": {"pid": 1, "program": "init"}},
        },
    )
    assert load(["--state-dir", str(tmp_path)]).redis_url == "redis://127.0.0.1:7001/0"
    dead = 2**22 + 12345  # above Linux's pid_max: never alive
    state.write(
        tmp_path,
        {
            "mode": "local",
            "endpoints": {"redis_url": "redis://127.0.0.1:7001/0"},
            "processes": {"redis": {"pid": dead, "program": "redis-server"}},
        },
    )
    cfg = load(["--state-dir", str(tmp_path)])
    assert cfg.redis_url == "redis://127.0.0.1:6390/0" and cfg.sources["redis_url"] == "default"


def test_unreadable_state_file_is_removed(tmp_path):
    (tmp_path / state.STATE_FILE).write_text("{half")
    assert load(["--state-dir", str(tmp_path)]).sources["redis_url"] == "default"
    assert not (tmp_path / state.STATE_FILE).exists()


@pytest.mark.parametrize(
    "env, message",
    [
        ({"FOUNDATIONS_PORT": "eighty"}, "FOUNDATIONS_PORT='eighty': expected a port number"),
        ({"FOUNDATIONS_PORT": "70000"}, "FOUNDATIONS_PORT='70000'"),
        ({"FOUNDATIONS_PORT": "8²"}, "FOUNDATIONS_PORT='8²': expected a port"),  # isdigit(), not int()
        ({"FOUNDATIONS_PORT": "٨٠"}, "FOUNDATIONS_PORT='٨٠': expected a port number"),  # int() reads 80
        ({"FOUNDATIONS_WORKERS": "²"}, "FOUNDATIONS_WORKERS='²': expected a whole number"),
        (
            {"FOUNDATIONS_API_URL": "127.0.0.1:8080"},
            "FOUNDATIONS_API_URL='127.0.0.1:8080': expected a URL like http",
        ),
        ({"FOUNDATIONS_REDIS_URL": "redis://127.0.0.1:xx/0"}, "the port must be a number"),
        ({"FOUNDATIONS_WORKERS": "0"}, "FOUNDATIONS_WORKERS='0': expected a whole number"),
        ({"FOUNDATIONS_THREADS": "-1"}, "FOUNDATIONS_THREADS='-1': expected a whole number"),
        ({"FOUNDATIONS_REDIS_TIMEOUT": "soon"}, "expected a number of seconds"),
        ({"FOUNDATIONS_REDIS_TIMEOUT": "-1"}, "expected a number of seconds"),
    ],
)
def test_bad_values_name_the_setting_and_what_is_expected(env, message, tmp_path):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        load(["--state-dir", str(tmp_path)], env)


@pytest.mark.parametrize(
    "name, message",
    [
        ("FOUNDATIONS_PORT", "FOUNDATIONS_PORT='': expected a port number"),
        ("FOUNDATIONS_WORKERS", "FOUNDATIONS_WORKERS='': expected a whole number"),
        ("FOUNDATIONS_ACCESS_LOG", "FOUNDATIONS_ACCESS_LOG='': expected true or false"),
        ("FOUNDATIONS_REDIS_URL", "FOUNDATIONS_REDIS_URL='': expected a URL like redis"),
        ("FOUNDATIONS_HOST", "FOUNDATIONS_HOST='': expected an IP address"),  # granian's traceback before
        ("FOUNDATIONS_STATE_DIR", "FOUNDATIONS_STATE_DIR='': expected a directory"),  # the cwd before
    ],
)
def test_an_empty_variable_is_a_value_not_unset(name, message, tmp_path):
    # As namsral/flag: a set variable counts even when empty (`FOUNDATIONS_PORT= serve`, a compose
    # `${PORT:-}`), so the default does not silently take over; a setting that needs a value says so.
    argv = [] if name == "FOUNDATIONS_STATE_DIR" else ["--state-dir", str(tmp_path)]
    with pytest.raises(ConfigError, match=message):
        load(argv, {name: ""})


def test_an_empty_variable_counts_where_empty_means_something(tmp_path):
    cfg = load(["--state-dir", str(tmp_path)], {"FOUNDATIONS_DEBUG_TOKEN": "", "FOUNDATIONS_CONFIG": ""})
    assert cfg.debug_token == "" and cfg.sources["debug_token"] == "env FOUNDATIONS_DEBUG_TOKEN"
    assert not any(s.startswith("file") for s in cfg.sources.values())  # empty FOUNDATIONS_CONFIG: no file


def test_host_is_an_address_granian_can_bind(tmp_path):
    for host in ("0.0.0.0", "::1", " 127.0.0.1"):
        assert load(["--host", host, "--state-dir", str(tmp_path)]).host == host.strip()
    with pytest.raises(ConfigError, match="--host='localhost': expected an IP address"):
        load(["--host", "localhost", "--state-dir", str(tmp_path)])


def test_bad_flag_and_bad_config_file(tmp_path):
    with pytest.raises(ConfigError, match="unrecognized arguments: --bogus"):
        load(["--bogus"])
    with pytest.raises(ConfigError, match="--port='x'"):
        load(["--port", "x", "--state-dir", str(tmp_path)])
    with pytest.raises(ConfigError, match="not found"):
        load(["--config", str(tmp_path / "none.toml")])
    (tmp_path / "bad.toml").write_text("port = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(["--config", str(tmp_path / "bad.toml")])
    (tmp_path / "unknown.toml").write_text("colour = 'red'\n")
    with pytest.raises(ConfigError, match="unknown setting"):
        load(["--config", str(tmp_path / "unknown.toml")])


def test_as_environ_round_trips(tmp_path):
    cfg = load(["--port", "81", "--state-dir", str(tmp_path)])
    assert load(env=config.as_environ(cfg)) == cfg
    assert json.dumps(cfg.as_dict())  # serialisable for `python -m foundations config`


def test_endpoint():
    cfg = load(["--api-url", "http://example.test", "--mysql-dsn", "mysql://u:p@db/x"], use_state=False)
    assert cfg.endpoint("api_url") == ("example.test", 80)
    assert cfg.endpoint("mysql_dsn") == ("db", 3306)


def test_child_environ_drops_stale_settings_and_adds_ours(monkeypatch, tmp_path):
    monkeypatch.setenv("FOUNDATIONS_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("KEEP_ME", "yes")
    env = config.child_environ(SHIV_ROOT="x")
    assert "FOUNDATIONS_REDIS_URL" not in env and env["KEEP_ME"] == "yes" and env["SHIV_ROOT"] == "x"
    cfg = load(["--port", "81", "--state-dir", str(tmp_path)])
    assert config.child_environ(cfg)["FOUNDATIONS_PORT"] == "81"
