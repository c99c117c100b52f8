"""A test without its component skips on a workstation and fails on CI."""

import pytest

from debian_packages import skip_unless_ci


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_a_missing_component_skips_off_ci(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        skip_unless_ci("no chromium")


@pytest.mark.parametrize("value", ["1", "true"])
def test_a_missing_component_fails_on_ci(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="unavailable on CI: no chromium"):
        skip_unless_ci("no chromium")
