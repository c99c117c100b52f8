"""`paretohqd export-lora`: the preference grid, and plain LoRA adapters that serve the same
mixes as the server, on a random 2-layer Llama with two random adapters (the tiny run's
export is in test_cli.py)."""

import json
import math
from pathlib import Path
from typing import Collection

import pytest

from paretohqd.serving.cli import main
from paretohqd.serving.lora_export import MANIFEST, VLLM_ARGUMENT, adapter_name, simplex_grid
from paretohqd.serving.row_lora import unsupported_features
from paretohqd.serving.model_index import INDEX, build_index

PROMPT = "How do I boil an egg?"


@pytest.mark.parametrize("objectives, points", [(1, 2), (2, 2), (2, 11), (3, 3), (3, 11),
                                                (4, 5)])
def test_simplex_grid_covers_the_simplex_evenly(objectives, points):
    grid = simplex_grid(objectives, points)
    assert len(grid) == math.comb(points + objectives - 2, objectives - 1)
    assert len(set(grid)) == len(grid)
    steps = points - 1
    for weights in grid:
        assert len(weights) == objectives
        assert sum(weights) == pytest.approx(1.0, abs=1e-12)
        assert all(w >= 0 and w * steps == pytest.approx(round(w * steps)) for w in weights)


def test_simplex_grid_points_in_order():
    assert simplex_grid(2, 11) == [(k / 10, (10 - k) / 10) for k in range(11)]
    assert simplex_grid(2, 11)[3] == (0.3, 0.7)
    assert simplex_grid(3, 3) == [(0, 0, 1), (0, 0.5, 0.5), (0, 1, 0), (0.5, 0, 0.5),
                                  (0.5, 0.5, 0), (1, 0, 0)]
    assert len(simplex_grid(3, 11)) == 66
    assert simplex_grid(1, 4) == [(1.0,)]
    with pytest.raises(ValueError, match="1 points per edge: need at least 2"):
        simplex_grid(2, 1)


def test_names_and_what_vllm_refuses():
    assert adapter_name("paretohqd", (0.3, 0.7)) == "paretohqd-p030_070"
    assert adapter_name("rewarded_soups", (1, 0, 0)) == "rewarded_soups-p100_000_000"
    clean = {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "bias": "none", "use_dora": False,
             "modules_to_save": None, "rank_pattern": {}, "alpha_pattern": {}}
    assert unsupported_features(clean) == []
    assert unsupported_features({**clean, "use_dora": True, "modules_to_save": ["lm_head"],
                          "bias": "all", "rank_pattern": {"q_proj": 8}}) == [
        "DoRA (use_dora)", "modules_to_save ['lm_head']", "bias 'all'",
        "a per-layer rank_pattern"]
    assert unsupported_features({**clean, "peft_type": "IA3"}) == ["peft_type 'IA3' is not LORA"]


def check_export(out: Path, base_model: str, logits_of: Collection[str] | None = None) -> dict:
    """Load every adapter of the export in ``out`` with PEFT onto ``base_model`` beside the
    trained adapters it was made of: each LoRA layer's update B A * scaling equals
    sum_i w_i * B_i A_i * scaling_i of the trained ones (atol 1e-6), its scaling is
    lora_alpha / r (what vLLM and TGI compute), its config is one vLLM loads, and the model
    with it gives the logits of the server's own mix (``merged_model``) on a prompt (atol
    5e-4; for the adapters named in ``logits_of``, default all). Returns the manifest."""
    import torch
    from peft import PeftModel
    from peft.tuners.lora import LoraLayer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from paretohqd.serving.models import merged_model

    manifest = json.loads((out / MANIFEST).read_text())
    entries = manifest["adapters"]
    configs = {e["name"]: json.loads((out / e["path"] / "adapter_config.json").read_text())
               for e in entries}
    for entry in entries:
        config = configs[entry["name"]]
        assert unsupported_features(config) == [], entry["name"]
        assert config["r"] == entry["rank"] <= manifest["vllm_max_lora_rank"]
        assert config["base_model_name_or_path"] == manifest["base_model"]
        assert AutoTokenizer.from_pretrained(out / entry["path"]).chat_template
    assert manifest["max_rank"] == max(e["rank"] for e in entries)

    peft = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(base_model, dtype=torch.float32),
        out / entries[0]["path"], adapter_name=entries[0]["name"])
    for entry in entries[1:]:
        peft.load_adapter(out / entry["path"], adapter_name=entry["name"])
    trained = {a["pref_id"]: a["path"] for e in entries for a in e["merged"]}
    for pid, path in trained.items():
        peft.load_adapter(path, adapter_name=f"trained_{pid}")
    peft.eval()

    layers = [module for module in peft.modules() if isinstance(module, LoraLayer)]
    assert layers

    def update(layer: LoraLayer, name: str) -> torch.Tensor:
        if name not in layer.lora_A:  # an adapter that leaves this layer alone
            return torch.zeros_like(layer.get_base_layer().weight)
        return (layer.lora_B[name].weight @ layer.lora_A[name].weight) * layer.scaling[name]

    for entry in entries:
        config = configs[entry["name"]]
        for layer in layers:
            if entry["name"] in layer.lora_A:
                assert layer.scaling[entry["name"]] == config["lora_alpha"] / config["r"]
            expected = sum(a["merge_weight"] * update(layer, f"trained_{a['pref_id']}")
                           for a in entry["merged"])
            got = update(layer, entry["name"])
            assert torch.allclose(got, expected, rtol=0, atol=1e-6), entry["name"]

    tokenizer = AutoTokenizer.from_pretrained(out / entries[0]["path"])
    inputs = tokenizer(PROMPT, return_tensors="pt")
    with torch.no_grad():
        for entry in entries:
            if logits_of is not None and entry["name"] not in logits_of:
                continue
            peft.set_adapter(entry["name"])
            got = peft(**inputs).logits
            served = merged_model(base_model, entry["merged"]).eval()(**inputs).logits
            # PEFT adds the LoRA path to each layer's output, as a LoRA server does, where
            # merged_model folds it into the weights: float32 rounding, at most 1.4e-4 on the
            # tiny run's logits (up to 28 in size), 5e-5 for a trained adapter alone
            assert torch.allclose(got, served, rtol=0, atol=5e-4), entry["name"]
    return manifest


def lora_run(root: Path, base_model: Path, **adapter_config) -> str:
    """A results folder with a model index of one method, ``paretohqd``, trained at 0,1 (rank
    2, alpha 3, on q_proj and v_proj) and 1,0 (rank 3, alpha 8, on q_proj, k_proj and
    o_proj): random LoRA weights on ``base_model``; ``adapter_config`` changes both."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    trained = {"p000_100": [0.0, 1.0], "p100_000": [1.0, 0.0]}
    shapes = {"p000_100": (2, 3, ["q_proj", "v_proj"]),
              "p100_000": (3, 8, ["q_proj", "k_proj", "o_proj"])}
    results = root / "results"
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    for seed, (pid, (r, alpha, targets)) in enumerate(shapes.items()):
        torch.manual_seed(seed)
        config = LoraConfig(r=r, lora_alpha=alpha, target_modules=targets,
                            init_lora_weights=False, task_type="CAUSAL_LM", **adapter_config)
        model = get_peft_model(AutoModelForCausalLM.from_pretrained(base_model), config)
        folder = results / f"paretohqd/seed1/{pid}/adapter"
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    index = build_index(str(base_model), "chat", ["harmless", "helpful"], (1,),
                        {"paretohqd": ("results/paretohqd/seed{seed}/{pref}/adapter", trained)})
    (results / INDEX).parent.mkdir(parents=True)
    (results / INDEX).write_text(json.dumps(index))
    return str(results)


@pytest.fixture(scope="module")
def random_run(tmp_path_factory, tiny_causal_lm) -> str:
    return lora_run(tmp_path_factory.mktemp("lora_run"), tiny_causal_lm)


def test_export_serves_the_servers_mixes(random_run, tiny_causal_lm, tmp_path, capsys):
    out = tmp_path / "new/lora"
    assert main(["export-lora", "--results", random_run, "--preference", "0,1",
                 "--preference", "0.25,0.75", "--preference", "0.9,0.1", "--interpolate",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "note:" not in err  # two objectives: every merge is exact
    assert f"--max-lora-rank 8` and the --lora-modules argument in {out / VLLM_ARGUMENT}" in err
    manifest = check_export(out, str(tiny_causal_lm))
    assert manifest["base_model"] == str(tiny_causal_lm)  # outside the results: as indexed
    assert (manifest["method"], manifest["seed"], manifest["interpolate"]) == (
        "paretohqd", 1, True)
    names = ["paretohqd-p000_100", "paretohqd-p025_075", "paretohqd-p090_010"]
    assert [e["name"] for e in manifest["adapters"]] == names
    assert [e["rank"] for e in manifest["adapters"]] == [2, 5, 5]  # a merge: ranks summed
    assert (manifest["max_rank"], manifest["vllm_max_lora_rank"]) == (5, 8)
    assert "--max-lora-rank >= max_rank" in manifest["note"]
    first, quarter, _ = manifest["adapters"]
    assert first["preference"] == first["realised_preference"] == [0.0, 1.0]
    assert [(a["pref_id"], a["merge_weight"]) for a in first["merged"]] == [("p000_100", 1.0)]
    assert quarter["realised_preference"] == [0.25, 0.75]
    assert {a["pref_id"]: a["merge_weight"] for a in quarter["merged"]} == pytest.approx(
        {"p000_100": 0.75, "p100_000": 0.25})
    # weight 1: the trained adapter's own weights, byte for byte
    trained = Path(first["merged"][0]["path"]) / "adapter_model.safetensors"
    assert (out / first["path"] / "adapter_model.safetensors").read_bytes() == \
        trained.read_bytes()

    paths = [f"{name}={out.absolute() / name}" for name in names]
    assert (out / VLLM_ARGUMENT).read_text() == "--lora-modules " + " ".join(paths) + "\n"
    assert manifest["vllm_lora_modules"] == "--lora-modules " + " ".join(paths)
    assert manifest["tgi_lora_adapters"] == ",".join(paths)
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, MANIFEST, VLLM_ARGUMENT])
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp folder


def test_nearest_grid_notes_what_serves_each_preference(random_run, tmp_path, capsys):
    out = tmp_path / "lora"
    assert main(["export-lora", "--results", random_run, "--grid", "3", "--out",
                 str(out)]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert notes == ["note: paretohqd-p050_050 (0.5,0.5) is served by the nearest trained "
                     "preference 0,1"]  # a tie: the first trained preference
    manifest = json.loads((out / MANIFEST).read_text())
    assert [e["name"] for e in manifest["adapters"]] == [
        "paretohqd-p000_100", "paretohqd-p050_050", "paretohqd-p100_000"]
    assert [e["rank"] for e in manifest["adapters"]] == [2, 2, 3]


@pytest.mark.parametrize("args, message", [
    (["--grid", "1"], "--grid 1: must be >= 2"),
    (["--preference", "0.3,0.6"], "preference 0.3,0.6: entries sum to 0.9"),
    (["--preference", "0.301,0.699", "--preference", "0.3,0.7"],
     "preferences [0.301, 0.699] and [0.3, 0.7] share the name 'paretohqd-p030_070'"),
    (["--grid", "3", "--method", "dpo"], "method 'dpo': not in"),
    (["--grid", "3", "--seed", "7"], "seed 7: not a training seed of this run; it has [1]")])
def test_bad_inputs_fail_naming_them_and_write_nothing(random_run, tmp_path, capsys, args,
                                                       message):
    out = tmp_path / "lora"
    assert main(["export-lora", "--results", random_run, *args, "--out", str(out)]) == 2
    assert f"paretohqd export-lora: error: {message}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_grid_or_preferences_not_both(random_run, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main(["export-lora", "--results", random_run, "--grid", "3", "--preference", "0,1",
              "--out", str(tmp_path / "lora")])
    assert exit_.value.code == 2


@pytest.mark.parametrize("target", ["a file", "a non-empty folder", "a path with a comma"])
def test_refuses_an_unusable_target(random_run, tmp_path, capsys, target):
    out = tmp_path / ("a,b" if target == "a path with a comma" else "lora")
    if target == "a file":
        out.write_text("mine")
    elif target == "a non-empty folder":
        out.mkdir()
        (out / "keep.txt").write_text("mine")
    assert main(["export-lora", "--results", random_run, "--grid", "3", "--out",
                 str(out)]) == 2
    err = capsys.readouterr().err
    if target == "a path with a comma":
        assert f"{out}: contains ','" in err and not out.exists()
    else:
        assert f"{out}: exists and is not an empty folder; choose a new path" in err
        assert (out.read_text() if out.is_file() else (out / "keep.txt").read_text()) == "mine"


def test_refuses_an_adapter_vllm_cannot_serve(tmp_path, tiny_causal_lm, capsys):
    results = lora_run(tmp_path / "run", tiny_causal_lm, use_dora=True)
    out = tmp_path / "lora"
    assert main(["export-lora", "--results", results, "--grid", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert (f"{results}/paretohqd/seed1/p000_100/adapter/adapter_config.json: DoRA (use_dora): "
            "vLLM cannot serve this adapter as PEFT does") in err
    assert not out.exists()


@pytest.mark.parametrize("target", ["new", "empty folder", "in new folders"])
def test_a_failed_export_leaves_nothing_behind(random_run, tmp_path, monkeypatch, target):
    """The export fails after some adapters were written (the third tokenizer's save: the disk
    is full): the target is as it was and no temporary folder is left."""
    from transformers import AutoTokenizer

    from paretohqd.serving import lora_export

    saved = []
    tokenizer_class = type(AutoTokenizer.from_pretrained(
        Path(random_run) / "paretohqd/seed1/p000_100/adapter"))
    original = tokenizer_class.save_pretrained

    def disk_full(self, save_directory, *args, **kwargs):
        saved.append(Path(save_directory).name)
        if len(saved) == 3:
            raise OSError(28, "No space left on device")
        return original(self, save_directory, *args, **kwargs)

    monkeypatch.setattr(tokenizer_class, "save_pretrained", disk_full)
    out = tmp_path / ("new/folders/lora" if target == "in new folders" else "lora")
    if target == "empty folder":
        out.mkdir()
    with pytest.raises(OSError, match="No space left on device"):
        lora_export.export_lora(lora_export.Served.load(random_run), "paretohqd", None,
                                simplex_grid(2, 3), True, out)
    assert saved == ["paretohqd-p000_100", "paretohqd-p050_050", "paretohqd-p100_000"]
    assert list(tmp_path.iterdir()) == ([out] if target == "empty folder" else [])
    if target == "empty folder":
        assert list(out.iterdir()) == []
