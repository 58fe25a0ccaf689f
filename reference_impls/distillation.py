"""Knowledge distillation: a small student learns from a larger teacher's outputs.

With teacher distribution p = softmax(z_t / T) and student distribution q = softmax(z_s / T) over the
vocabulary at every position:

    logit KD (hinton2015distilling)   L = (1 - a) CE(y, q_1) + a T^2 KL(p || q)          (forward KL)
    reverse KL (gu2024minillm)        L = KL(q || p)   mode seeking; student warm-started with CE
    generalised JSD (agarwal2024policy)
        JSD_b(p, q) = b KL(p || m) + (1 - b) KL(q || m),  m = b p + (1 - b) q,
        and a share `on_policy` of the batches are sequences the student sampled itself.
        Convention pinned here: b = 0 gives KL(p || q) (forward) and b = 1 gives KL(q || p) (reverse),
        the limits of JSD_b / b and JSD_b / (1 - b); 0 < b < 1 is the plain JSD_b.
    sequence-level KD (kim2016sequence)  black box: maximum likelihood on the teacher's greedy
        generations (the mode the teacher would output), no access to its logits.

The demo starts every student from the same initialisation, by default the zoo's trained zoo-50k
(a pretrained small LM, as the students of MiniLLM and GKD are), and trains it on the same batches
for the same steps with cross-entropy only and with logit KD; then fine-tunes the CE student with
forward KL, reverse KL and GKD and asks the teacher how likely it finds each one's samples; and
trains a student on the teacher's greedy generations (sequence-level KD). A bimodal toy target
shows the mode seeking of reverse KL (a sanity check: it is a property of the divergence). Related:
sanh2019distilbert, jiao2020tinybert (distillation of hidden states as well, not implemented here).

Why start from a trained student: from scratch (`student_init="scratch"`), which of CE and KD wins
was decided by when each run happened to leave the unigram plateau, not by the loss. A trained
zoo-180k is no good start either: trained further on the corpus it overtakes the under-trained
zoo-660k teacher, and imitating the teacher then costs NLL. T = 1 because T = 2 cost held-out NLL
at this scale.

Notes: MiniLLM optimises the sequence-level reverse KL with a policy gradient on student samples;
here the reverse KL is the token-level one on corpus text (the GKD paper's supervised variant).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from reference_impls import zoo
from reference_impls.common import (
    Check,
    Finding,
    Progress,
    Result,
    Timer,
    config_dict,
    report,
    seed_everything,
    set_threads,
)


@dataclass
class Config:
    teacher: str = "zoo-660k"  # zoo name or local checkpoint folder of the teacher
    student: str = "zoo-50k"  # zoo name (or checkpoint folder) giving the students' shape and start
    student_init: str = "trained"  # "trained": start from that trained model; "scratch": fresh weights
    steps: int = 300  # training steps of the CE, logit-KD and sequence-KD students
    batch: int = 16  # sequences per step
    seq_len: int = 64  # tokens per sequence
    lr: float = 6e-3  # peak learning rate of those students
    temperature: float = 1.0  # Hinton temperature T of logit KD
    alpha: float = 0.5  # weight a of the KD term (1 - a on cross-entropy)
    finetune_steps: int = 80  # steps of forward-KL / reverse-KL / GKD fine-tuning of the CE student
    finetune_lr: float = 1e-3  # their peak learning rate
    gkd_beta: float = 0.5  # b of the generalised JSD
    gkd_on_policy: float = 0.5  # share of GKD batches made of student samples
    seqkd_prompts: int = 512  # training prompts the teacher continues for sequence-level KD
    prompt_len: int = 16  # prompt length ("\n" + start of a document)
    gen_len: int = 48  # tokens the teacher generates per prompt
    eval_tokens: int = 16384  # held-out tokens for NLL and KL
    eval_prompts: int = 256  # held-out prompts for greedy agreement with the teacher
    eval_gen_len: int = 32  # greedy tokens compared
    toy_steps: int = 400  # optimisation steps of the bimodal toy
    seed: int = 0  # the zoo's seed (teacher and trained start), batch order, GKD sampling

    @classmethod
    def quick(cls) -> Config:
        return cls(
            steps=100,
            batch=8,
            finetune_steps=10,
            seqkd_prompts=128,
            eval_tokens=4096,
            eval_prompts=64,
            toy_steps=200,
        )


# ---------------------------------------------------------------------------------------------------
# Losses: pure functions of logits (..., V); every loss is a mean over positions.


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1, x.shape[-1]).float()  # (N, V)


def forward_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """T^2 KL(p_T || q_T), p = softmax(teacher / T), q = softmax(student / T)."""
    s, t = _flat(student_logits) / temperature, _flat(teacher_logits) / temperature  # (N, V)
    log_q, log_p = F.log_softmax(s, dim=-1), F.log_softmax(t, dim=-1)
    return temperature**2 * (log_p.exp() * (log_p - log_q)).sum(-1).mean()


def reverse_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """KL(q || p): the student's own probability mass is what is penalised (mode seeking)."""
    log_q, log_p = F.log_softmax(_flat(student_logits), dim=-1), F.log_softmax(_flat(teacher_logits), dim=-1)
    return (log_q.exp() * (log_q - log_p)).sum(-1).mean()


def generalized_jsd(student_logits: torch.Tensor, teacher_logits: torch.Tensor, beta: float) -> torch.Tensor:
    """JSD_b(p, q) = b KL(p || m) + (1 - b) KL(q || m), m = b p + (1 - b) q; b=0: KL(p||q), b=1: KL(q||p)."""
    if beta == 0:
        return forward_kl(student_logits, teacher_logits)
    if beta == 1:
        return reverse_kl(student_logits, teacher_logits)
    log_q, log_p = F.log_softmax(_flat(student_logits), dim=-1), F.log_softmax(_flat(teacher_logits), dim=-1)
    log_m = torch.logsumexp(torch.stack([log_p + math.log(beta), log_q + math.log(1 - beta)]), dim=0)  # (N, V)
    kl_pm = (log_p.exp() * (log_p - log_m)).sum(-1)  # (N,)
    kl_qm = (log_q.exp() * (log_q - log_m)).sum(-1)  # (N,)
    return (beta * kl_pm + (1 - beta) * kl_qm).mean()


def hinton_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    targets: torch.Tensor,
    temperature: float,
    alpha: float,
) -> torch.Tensor:
    """(1 - a) CE(y, student) + a T^2 KL(p_T || q_T); targets (...,) token ids."""
    ce = F.cross_entropy(_flat(student_logits), targets.reshape(-1))
    return (1 - alpha) * ce + alpha * forward_kl(student_logits, teacher_logits, temperature)


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean entropy (nats) of softmax(logits)."""
    log_q = F.log_softmax(_flat(logits), dim=-1)
    return -(log_q.exp() * log_q).sum(-1).mean()


# ---------------------------------------------------------------------------------------------------
# The bimodal toy: fit a unimodal family to a two-peaked target with each KL.


def bimodal_target(n: int = 64, centres: tuple[float, float] = (16.0, 48.0), width: float = 3.0) -> torch.Tensor:
    """Log-probabilities (n,) of an equal mixture of two discretised Gaussians."""
    x = torch.arange(n, dtype=torch.float64)
    dens = sum(torch.exp(-((x - c) ** 2) / (2 * width**2)) for c in centres)
    return torch.log(dens / dens.sum())


def fit_unimodal(target_logp: torch.Tensor, divergence: str, steps: int = 400, lr: float = 0.1) -> torch.Tensor:
    """Fit logits -(x - mu)^2 / (2 s^2) to the target by "forward" or "reverse" KL; returns the fit."""
    x = torch.arange(len(target_logp), dtype=torch.float64)
    mu = torch.tensor(len(x) * 3 / 8, dtype=torch.float64, requires_grad=True)  # off-centre, narrow start
    log_s = torch.tensor(math.log(2.0), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([mu, log_s], lr=lr)
    for _ in range(steps):
        logits = -((x - mu) ** 2) / (2 * torch.exp(log_s) ** 2)  # (n,)
        loss_fn = forward_kl if divergence == "forward" else reverse_kl
        loss = loss_fn(logits[None], target_logp[None])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (-((x - mu) ** 2) / (2 * torch.exp(log_s) ** 2)).detach()


# ---------------------------------------------------------------------------------------------------
# Training and measuring students (any transformers causal LMs sharing a vocabulary)


def distill(
    student: PreTrainedModel,
    teacher: PreTrainedModel,
    batches,
    steps: int,
    loss: str = "hinton",
    lr: float = 3e-3,
    temperature: float = 1.0,
    alpha: float = 0.5,
    beta: float = 0.5,
    on_policy: float = 0.0,
    prompt_len: int = 8,
    seed: int = 0,
    progress=None,
) -> PreTrainedModel:
    """Train `student` on batches (B, T) of token ids with loss "ce", "hinton", "forward", "reverse" or "gkd".

    For "gkd", a share `on_policy` of the steps replace the batch by student samples continuing its
    first `prompt_len` tokens.
    """
    teacher.eval()
    g = torch.Generator().manual_seed(seed)

    def loss_fn(model: PreTrainedModel, x: torch.Tensor) -> torch.Tensor:
        if loss == "ce":
            return zoo.lm_loss(model, x)
        if loss == "gkd" and torch.rand((), generator=g).item() < on_policy:
            x = zoo.generate(model, x[:, :prompt_len], x.shape[1] - prompt_len, temperature=1.0, generator=g)
            model.train()
        with torch.no_grad():
            t = zoo.logits(teacher, x)[:, :-1]  # (B, T-1, V)
        s = zoo.logits(model, x)[:, :-1]  # (B, T-1, V)
        if loss == "hinton":
            return hinton_loss(s, t, x[:, 1:], temperature, alpha)
        if loss == "forward":
            return forward_kl(s, t, temperature)
        if loss == "reverse":
            return reverse_kl(s, t)
        if loss == "gkd":
            return generalized_jsd(s, t, beta)
        raise ValueError(f"unknown loss {loss!r}")

    zoo.train(student, batches, steps, loss_fn, lr=lr, warmup=min(30, steps // 4), progress=progress)
    return student


@torch.no_grad()
def teacher_logits(teacher: PreTrainedModel, x: torch.Tensor, batch: int = 64) -> torch.Tensor:
    """The teacher's logits (N, T-1, V) on windows (N, T), computed once for every `compare`."""
    return torch.cat([zoo.logits(teacher, x[i : i + batch])[:, :-1] for i in range(0, len(x), batch)])


@torch.no_grad()
def compare(
    student: PreTrainedModel,
    teacher: PreTrainedModel | torch.Tensor,
    x: torch.Tensor,
    batch: int = 64,
) -> dict[str, float]:
    """Held-out NLL, KL(teacher || student), KL(student || teacher), student entropy on windows (N, T).

    `teacher` is a model or its `teacher_logits` on x.
    """
    t_all = teacher if isinstance(teacher, torch.Tensor) else teacher_logits(teacher, x, batch)  # (N, T-1, V)
    sums = {"nll": 0.0, "forward_kl": 0.0, "reverse_kl": 0.0, "entropy": 0.0}
    for i in range(0, len(x), batch):
        xb, t = x[i : i + batch], t_all[i : i + batch]
        s = zoo.logits(student, xb)[:, :-1]  # (B, T-1, V)
        n = xb.shape[0]
        sums["nll"] += n * F.cross_entropy(_flat(s), xb[:, 1:].reshape(-1)).item()
        sums["forward_kl"] += n * forward_kl(s, t).item()
        sums["reverse_kl"] += n * reverse_kl(s, t).item()
        sums["entropy"] += n * entropy(s).item()
    return {k: v / len(x) for k, v in sums.items()}


def greedy_agreement(student: PreTrainedModel, teacher_out: torch.Tensor, prompt_len: int) -> tuple[float, float]:
    """(token agreement, exact match) of the student's greedy continuation with the teacher's (B, P + n)."""
    n_new = teacher_out.shape[1] - prompt_len
    out = zoo.generate(student, teacher_out[:, :prompt_len], n_new)  # (B, P + n)
    same = out[:, prompt_len:] == teacher_out[:, prompt_len:]  # (B, n)
    return same.float().mean().item(), same.all(dim=1).float().mean().item()


# ---------------------------------------------------------------------------------------------------
# The demo


def initial_student(config: Config) -> PreTrainedModel:
    """Where every student starts: the trained model `config.student` or fresh weights of its shape."""
    if config.student_init == "trained":
        return zoo.load(config.student, seed=config.seed)[0]
    if config.student_init == "scratch":
        return zoo.fresh(config.student, seed=config.seed)
    raise ValueError(f"student_init must be 'trained' or 'scratch', not {config.student_init!r}")


@torch.no_grad()
def teacher_nll_of_samples(
    student: PreTrainedModel, teacher: PreTrainedModel, prompts: torch.Tensor, n_new: int, seed: int
) -> float:
    """Mean NLL per token, under the teacher, of continuations the student samples (temperature 1):
    how likely the teacher finds what the student writes (lower is closer to the teacher)."""
    out = zoo.generate(
        student, prompts, n_new, temperature=1.0, generator=torch.Generator().manual_seed(seed)
    )  # (B, P + n)
    lg = zoo.logits(teacher, out)[:, prompts.shape[1] - 1 : -1].float()  # (B, n, V): predicts the sampled tokens
    return F.cross_entropy(lg.reshape(-1, lg.shape[-1]), out[:, prompts.shape[1] :].reshape(-1)).item()


def train_students(config: Config, teacher, init, train_ids, tick) -> dict[str, PreTrainedModel]:
    """CE and logit KD from the same start, batches and steps; then the CE student fine-tuned with
    forward KL, reverse KL (MiniLLM) and GKD; and a student trained on the teacher's generations."""

    def stream(offset: int = 0):
        return zoo.batch_stream(train_ids, config.batch, config.seq_len, seed=config.seed + 1 + offset)

    students = {}
    for name in ("ce", "hinton"):
        students[name] = distill(
            copy.deepcopy(init), teacher, stream(), config.steps, loss=name, lr=config.lr,
            temperature=config.temperature, alpha=config.alpha, progress=tick(name, config.steps),
        )  # fmt: skip
    for name in ("forward", "reverse", "gkd"):
        students[name] = distill(
            copy.deepcopy(students["ce"]), teacher, stream(1), config.finetune_steps, loss=name,
            lr=config.finetune_lr, beta=config.gkd_beta, on_policy=config.gkd_on_policy, seed=config.seed,
            progress=tick(name, config.finetune_steps),
        )  # fmt: skip
    # Black box: maximum likelihood on the teacher's greedy continuations of training prompts.
    prompts = zoo.document_prompts("train", config.seqkd_prompts, config.prompt_len, seed=config.seed)
    generations = torch.cat(
        [zoo.generate(teacher, prompts[i : i + 128], config.gen_len) for i in range(0, len(prompts), 128)]
    )
    g = torch.Generator().manual_seed(config.seed + 2)

    def gen_stream():
        while True:
            yield generations[torch.randint(0, len(generations), (config.batch,), generator=g)]

    students["seqkd"] = distill(
        copy.deepcopy(init),
        teacher,
        gen_stream(),
        config.steps,
        loss="ce",
        lr=config.lr,
        progress=tick("seqkd", config.steps),
    )
    return students


LABELS = {
    "teacher_nll": "teacher: held-out NLL (nats per byte)",
    "teacher_params": "teacher: parameters",
    "student_params": "student: parameters",
    "kd_gap_closed": "share of the CE student's NLL gap to the teacher that logit KD closes",
    **{f"{k}_nll": f"{name}: held-out NLL (nats per byte)" for k, name in (
        ("init", "student at the start"), ("ce", "CE student"), ("hinton", "logit-KD student"), ("forward", "forward-KL fine-tune"),
        ("reverse", "reverse-KL fine-tune"), ("gkd", "GKD fine-tune"), ("seqkd", "sequence-KD student"))},
    **{f"{k}_forward_kl": f"{name}: held-out KL(teacher || student)" for k, name in (("ce", "CE student"), ("hinton", "logit-KD student"))},
    **{f"{k}_sample_teacher_nll": f"{name}: teacher's NLL of the student's samples" for k, name in (
        ("forward", "forward-KL fine-tune"), ("reverse", "reverse-KL fine-tune"), ("gkd", "GKD fine-tune"))},
    **{f"{k}_greedy_token_agreement": f"{name}: greedy token agreement with the teacher" for k, name in (
        ("ce", "CE student"), ("hinton", "logit-KD student"), ("seqkd", "sequence-KD student"))},
}  # fmt: skip


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        seed_everything(config.seed)
        report(progress, 0.0, f"loading {config.teacher}")
        teacher, _tok = zoo.load(config.teacher, seed=config.seed)
        held = zoo.windows(zoo.tokens("heldout"), config.seq_len, config.eval_tokens)  # (N, T)
        cost = {"ce": 1, "hinton": 2, "forward": 2, "reverse": 2, "gkd": 3, "seqkd": 1}  # per step, roughly
        steps = {k: config.steps if k in ("ce", "hinton", "seqkd") else config.finetune_steps for k in cost}
        total = sum(cost[k] * steps[k] for k in cost)
        done = {k: sum(cost[j] * steps[j] for j in list(cost)[: list(cost).index(k)]) for k in cost}

        def tick(name: str, n: int):
            return lambda step: report(
                progress, 0.9 * (done[name] + cost[name] * n * (step + 1) / n) / total, f"training: {name}"
            )

        held_t = teacher_logits(teacher, held)  # (N, T-1, V), shared by every comparison
        init = initial_student(config)
        metrics: dict[str, float] = {
            "teacher_nll": compare(teacher, held_t, held)["nll"],
            "teacher_params": zoo.n_params(teacher),
        }
        metrics |= {f"init_{k}": v for k, v in compare(init, held_t, held).items()}
        students = train_students(config, teacher, init, zoo.tokens("train"), tick)
        metrics["student_params"] = zoo.n_params(students["ce"])

        report(progress, 0.9, "measuring")
        for name, student in students.items():
            metrics |= {f"{name}_{k}": v for k, v in compare(student, held_t, held).items()}
        eval_prompts = zoo.document_prompts("heldout", config.eval_prompts, config.prompt_len, seed=config.seed)
        teacher_out = zoo.generate(teacher, eval_prompts, config.eval_gen_len)  # (P, prompt + n)
        for name in ("ce", "seqkd", "hinton"):
            agree, exact = greedy_agreement(students[name], teacher_out, config.prompt_len)
            metrics[f"{name}_greedy_token_agreement"] = agree
            metrics[f"{name}_greedy_exact_match"] = exact
        for name in ("forward", "reverse", "gkd"):
            metrics[f"{name}_sample_teacher_nll"] = teacher_nll_of_samples(
                students[name], teacher, eval_prompts, config.eval_gen_len, config.seed
            )
        metrics["kd_gap_closed"] = (metrics["ce_nll"] - metrics["hinton_nll"]) / (
            metrics["ce_nll"] - metrics["teacher_nll"]
        )

        # The bimodal toy: a property of the two divergences, not of any trained model.
        target = bimodal_target()
        fits = {
            d: entropy(fit_unimodal(target, d, steps=config.toy_steps)[None]).item() for d in ("forward", "reverse")
        }
        m = metrics
        findings = [
            Finding.compare("a student trained with logit KD reaches lower held-out NLL than one trained with cross-entropy alone (same start, data and steps)",
                            "hinton2015distilling", m["hinton_nll"], "<", m["ce_nll"], "logit KD", "cross-entropy"),
            Finding.compare("the logit-KD student is closer to the teacher on held-out text: KL(teacher || student)",
                            "hinton2015distilling", m["hinton_forward_kl"], "<", m["ce_forward_kl"], "logit KD", "cross-entropy"),
            Finding.compare("fine-tuned with reverse KL, the student writes samples the teacher finds more likely than after forward-KL fine-tuning",
                            "gu2024minillm", m["reverse_sample_teacher_nll"], "<", m["forward_sample_teacher_nll"], "reverse KL", "forward KL"),
            Finding.compare("fine-tuned with GKD (generalised JSD, half the batches its own samples), the student writes samples the teacher finds more likely than after forward-KL fine-tuning",
                            "agarwal2024policy", m["gkd_sample_teacher_nll"], "<", m["forward_sample_teacher_nll"], "GKD", "forward KL"),
            Finding.compare("trained on the teacher's greedy outputs, a student reproduces the teacher's greedy continuations of new prompts better than a word-level (logit) KD student",
                            "kim2016sequence", m["seqkd_greedy_token_agreement"], ">", m["hinton_greedy_token_agreement"], "sequence-level KD", "logit KD"),
            Finding.compare("sequence-level KD keeps the student's held-out NLL on real text as low as cross-entropy training on the corpus does",
                            "kim2016sequence", m["seqkd_nll"], "<=", m["ce_nll"], "sequence-level KD", "cross-entropy",
                            note="The student trained only on the teacher's greedy continuations becomes far more certain than the others (its entropy on held-out text is well below the CE student's) and assigns real text low probability; Kim and Rush score the task the teacher was run on (translation), not the likelihood of other text."),
        ]  # fmt: skip
        checks = [
            Check.compare("bimodal toy: the reverse-KL fit has lower entropy than the forward-KL fit (mode seeking)", fits["reverse"], "<", fits["forward"]),
        ]  # fmt: skip
        metrics |= {f"toy_{d}_fit_entropy": v for d, v in fits.items()}
        report(progress, 1.0, "done")
    return Result("distillation", config_dict(config), metrics, findings, checks, timer.seconds, labels=LABELS)
