"""Calibration on a whole window (what recommendations read): who is calibrated, groups,
too little data. Whether the fitted values are right is tested against the simulator's
spec, by hand, in tests/integration/test_efficiency_fleet.py; the out-of-sample fit of
each scored day in test_calibration_window.py."""

from __future__ import annotations

from pipelines.recommend.calibrate import calibration_key


def test_every_deployment_is_calibrated(fleet, result):
    for config in fleet.configs.values():
        if len(fleet.days_of(config.deployment_id)) >= 1:
            assert result.calibration.for_config(config).source == "calibrated"


def test_groups_pool_deployments_of_the_same_hardware(fleet, result):
    # summarise-mixtral and agents-qwen3-32b share (a100-80gb, vllm, bf16, TP2)
    key = calibration_key(fleet.configs["summarise-mixtral"])
    group = result.calibration.groups[key]
    assert group.requests_used > result.calibration.deployments["summarise-mixtral"].requests_used


def test_too_little_data_keeps_the_prior(fleet):
    from pipelines.recommend.calibrate import calibrate

    cal = calibrate(fleet.requests, fleet.configs, min_requests=10**9)
    assert cal.groups == {}
    assert cal.for_config(fleet.configs["chat-qwen7b"]).source == "prior"


def test_no_priced_deployment_means_no_calibration_and_no_crash(fleet):
    # e.g. a warehouse whose billing has no GPU-hours yet: requests, but no configs
    from pipelines.recommend.calibrate import calibrate

    assert calibrate(fleet.requests, {}) == calibrate(None, {})
