"""ServeSettings, the one value every setting of a server is spelled in:
its checks, the options derived from it, and what the engines accept."""

import argparse
import dataclasses

import pytest

from skfashion.serve import (
    LIMITS,
    ServeSettings,
    check_limits,
    connection_limits,
    options,
    settings_from_options,
)


def _parse(*argv):
    parser = argparse.ArgumentParser()
    for option in options():
        parser.add_argument(option.flag, dest=option.name, **option.kwargs)
    return parser.parse_args(argv)


def test_every_setting_is_an_option_with_its_default():
    """The options are the fields, their defaults the fields' (in the
    option's unit): parsing nothing gives the default settings."""
    fields = [f.name for f in dataclasses.fields(ServeSettings)]
    assert [o.name for o in options()] == fields
    assert settings_from_options(_parse()) == ServeSettings()
    flags = {o.name: o.flag for o in options()}
    assert flags["max_upload_bytes"] == "--max-upload-mb"
    assert flags["max_delay"] == "--batch-delay-ms"
    assert flags["max_head_bytes"] == "--max-header-kb"
    assert flags["allowed_hosts"] == "--allowed-host"
    for option in options():  # each option says its default in its help
        default = ServeSettings.__dataclass_fields__[option.name].default
        if default is not None and not isinstance(default, bool):
            assert "(default: " in option.kwargs["help"], option.name


def test_options_in_their_units_give_the_settings():
    given = _parse(
        "--max-upload-mb", "1.5", "--batch-delay-ms", "5", "--max-header-kb", "4",
        "--allowed-host", "a.example", "--allowed-host", "b.example",
        "--max-images", "4", "--access-log", "--engine", "kserve",
        "--name", "fashion",
    )  # fmt: skip
    settings = settings_from_options(given)
    assert settings.max_upload_bytes == 1572864 and settings.max_delay == 0.005
    assert settings.max_head_bytes == 4096 and settings.max_images == 4
    assert settings.allowed_hosts == ("a.example", "b.example")
    assert settings.access_log and settings.engine == "kserve"
    assert settings.name == "fashion"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--max-upload-mb", "0"], "--max-upload-mb must be in (0, 1024], got 0.0"),
        (["--max-header-kb", "0.5"], "--max-header-kb must be in [1, 1024], got 0.5"),
        (["--port", "70000"], "--port must be in [0, 65535], got 70000"),
        (["--max-request-pixels", "0"], "--max-request-pixels must be a positive"),
        (["--max-pixels-per-byte", "0"], "--max-pixels-per-byte must be a positive"),
        (["--token", " "], "the token (--token or $SKFASHION_SERVE_TOKEN) is empty"),
    ],
)
def test_options_are_checked_by_their_names(argv, message):
    with pytest.raises(ValueError) as info:
        settings_from_options(_parse(*argv))
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"max_images": 0}, ValueError, "max_images must be a positive integer"),
        ({"max_images": 65}, ValueError, "max_images (65) must not exceed max_batch"),
        ({"max_delay": 5}, ValueError, "max_delay must be in [0, 1], got 5"),
        ({"queue_timeout": "1"}, ValueError, "queue_timeout must be a number"),
        ({"port": -1}, ValueError, "port must be in [0, 65535]"),
        ({"token": ""}, ValueError, "token must be a non-empty string"),
        ({"engine": "triton"}, ValueError, "engine must be one of skfashion, kserve"),
        ({"host": 8000}, TypeError, "host must be a string"),
    ],
)
def test_settings_are_checked_when_made(kwargs, error, message):
    with pytest.raises(error) as info:
        ServeSettings(**kwargs)
    assert str(info.value).startswith(message)


def test_limits_are_the_settings_ranges():
    assert set(LIMITS) <= {f.name for f in dataclasses.fields(ServeSettings)}
    for name, rule in LIMITS.items():
        default = getattr(ServeSettings(), name)
        if default is not None:
            check_limits({name: default})  # every default within its range
        with pytest.raises(ValueError, match=name):
            check_limits({name: rule.low - 1})


def test_hosts_and_connection_limits_come_from_the_settings():
    assert ServeSettings().hosts() == ["localhost", "127.0.0.1", "[::1]"]
    assert "10.0.0.5" in ServeSettings(host="10.0.0.5").hosts()
    assert ServeSettings(allowed_hosts="*").hosts() == ["*"]
    limits = connection_limits(ServeSettings(max_connections=7, idle_timeout=2.0))
    assert (limits.max_connections, limits.idle_timeout) == (7, 2.0)
    assert limits.max_client_connections == 1  # a quarter, at least 1
    limits = connection_limits(ServeSettings(max_client_connections=9))
    assert limits.max_client_connections == 9
    assert limits.max_headers == ServeSettings().max_headers
    assert 1 <= connection_limits(ServeSettings()).max_connections <= 1000


def test_kserve_refuses_by_name_what_it_cannot_apply():
    ServeSettings(engine="kserve", host="0.0.0.0", max_images=8).check_engine()
    with pytest.raises(ValueError) as info:
        ServeSettings(
            engine="kserve", host="10.1.2.3", token="t", max_connections=5
        ).check_engine()
    message = str(info.value)
    assert message.startswith("KServe's ModelServer cannot apply host, token, ")
    assert "max_connections: it listens on every interface" in message
    with pytest.raises(ValueError, match="port and grpc_port must differ"):
        ServeSettings(engine="kserve", port=9000, grpc_port=9000).check_engine()
    with pytest.raises(ValueError, match=r"port must be in \[1, 65535\] with KServe"):
        ServeSettings(engine="kserve", port=0).check_engine()


def test_a_missing_extra_is_named(monkeypatch):
    from skfashion.serve import _settings

    real = _settings.importlib.util.find_spec
    monkeypatch.setattr(
        _settings.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "uvicorn" else real(name, *a),
    )
    with pytest.raises(ImportError, match=r'uvicorn: pip install "skfashion\[serve\]"'):
        ServeSettings().check_engine()
