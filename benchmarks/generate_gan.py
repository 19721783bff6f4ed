"""Train the ORGAN-style GAN (``theralab.discovery.generate.gan``) on MOSES train and ship it.

The generator starts from a prior (default: the shipped one) and is trained against a CNN
discriminator that sees MOSES train molecules as "real" (streamed from the molsets wheel, starting
at ``--skip`` so the discriminator's real set is not the prior's first molecules; cycled). Pure
distribution learning (discriminator_weight = 1). Checkpoints to ``<out>/gan.pt`` and resumes.

    pip download --no-deps molsets==0.3.1 -d benchmarks/cache/
    nice -n 15 python benchmarks/generate_gan.py train --minutes 20 --out benchmarks/cache/gan
    python benchmarks/generate_moses.py --prior benchmarks/cache/gan --n 2000 --test 2000
    python benchmarks/generate_gan.py ship --out benchmarks/cache/gan
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WHEEL = HERE / "cache" / "molsets-0.3.1-py3-none-any.whl"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["train", "ship"])
    ap.add_argument("--prior", default=None, help="starting prior directory (default: shipped smiles-gru-prior)")
    ap.add_argument("--out", default="benchmarks/cache/gan")
    ap.add_argument("--wheel", default=str(WHEEL))
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--skip", type=int, default=1_000_000, help="first MOSES train row the discriminator sees")
    ap.add_argument("--g-lr", type=float, default=1e-4)
    ap.add_argument("--d-lr", type=float, default=1e-4)
    ap.add_argument("--beta", type=float, default=0.01)
    ap.add_argument("--d-steps", type=int, default=1, help="discriminator updates per generator update")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=2000, help="ship: samples for the card's validity/uniqueness")
    args = ap.parse_args(argv)

    import pandas as pd
    import torch

    from theralab.discovery.generate.gan import train_gan
    from theralab.discovery.generate.prior import WEIGHTS_DIR, load_prior, moses_smiles, sample_report
    from theralab.discovery.generate.schemas import GANConfig

    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = GANConfig(discriminator_weight=1.0, batch_size=args.batch_size, g_learning_rate=args.g_lr,
                    d_learning_rate=args.d_lr, beta=args.beta, d_steps=args.d_steps)
    if args.action == "train":
        prior = load_prior(args.prior)
        real = itertools.chain(moses_smiles(args.wheel, skip=args.skip),
                               itertools.chain.from_iterable(moses_smiles(args.wheel) for _ in range(100)))
        log = (out / "train.log").open("a")

        def progress(row: dict[str, float]) -> None:
            if int(row["step"]) % 10 == 0:
                print(json.dumps(row), file=log, flush=True)

        res = train_gan(prior, real, cfg, max_steps=args.steps, max_minutes=args.minutes, seed=args.seed,
                        checkpoint=out / "gan.pt", progress=progress)
        res.generator.save(out / "prior.pt")
        res.history.to_csv(out / "history.csv", index=False)
        seconds = float(res.history["seconds"].iloc[-1]) if len(res.history) else 0.0
        summary = {"steps": int(res.history["step"].iloc[-1]) if len(res.history) else 0, "stopped": res.stopped,
                   "last10": res.history.tail(10).mean(numeric_only=True).round(4).to_dict(),
                   "seconds_this_call": seconds, "config": cfg.model_dump(), "prior": args.prior or "shipped",
                   "command": "python benchmarks/generate_gan.py " + " ".join(sys.argv[1:] if argv is None else argv)}
        (out / "train_summary.json").write_text(json.dumps(summary, indent=2))
        print(json.dumps(summary, indent=2))
        return 0

    from theralab.models.registry import ModelCard, save_card

    gen = load_prior(out / "prior.pt")
    smiles: list[str] = []
    while len(smiles) < args.n:
        batch, _ = gen.sample(min(500, args.n - len(smiles)), seed=len(smiles) + 1)
        smiles += batch
    report = sample_report(smiles)
    summary = json.loads((out / "train_summary.json").read_text())
    cfg = GANConfig(**summary["config"])  # the settings it was trained with, not this call's defaults
    hist = pd.read_csv(out / "history.csv")
    moses = json.loads((out / "moses.json").read_text()) if (out / "moses.json").exists() else {}
    dest = WEIGHTS_DIR.parent / "smiles-organ"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(out / "prior.pt", dest / "prior.pt")
    card = ModelCard(
        name="smiles-organ", task="generation", version="1",
        description=(f"ORGAN-style GAN generator (GRU {gen.hparams}): the smiles-gru-prior fine-tuned by policy "
                     f"gradient against a CNN discriminator on MOSES train ({len(hist)} generator steps of "
                     f"{cfg.batch_size} in {hist['seconds'].iloc[-1] / 60:.0f} min on one shared CPU core; "
                     f"generator lr {cfg.g_learning_rate:g}, discriminator lr {cfg.d_learning_rate:g}, "
                     f"{cfg.d_steps} discriminator step(s) per generator step, KL penalty {cfg.beta} to the prior, "
                     "sequence-level reward, no roll-outs)."),
        training_data={"source": "MOSES train (molsets==0.3.1 wheel, MIT) as the discriminator's real set, "
                                 f"streamed from row {args.skip:,}",
                       "rows": int((len(hist) * (cfg.d_steps + 1) + cfg.d_pretrain_steps) * cfg.batch_size)},
        metrics={**{k: round(v, 4) for k, v in report.items()}, "samples_seed": 1,
                 **{f"moses_{k}": v for k, v in moses.items()}},
        seeds=[args.seed],
        retrain=("pip download --no-deps molsets==0.3.1 -d benchmarks/cache/ && nice -n 15 "
                 + summary.get("command", "python benchmarks/generate_gan.py train --minutes 20")
                 + f" && python benchmarks/generate_moses.py --prior {out} --n 2000 --test 2000 --json {out}/moses.json"
                 + f" && python benchmarks/generate_gan.py ship --out {out}"),
        loader="theralab.discovery.generate.prior:load_predictor_dir",
    )
    save_card(dest, card)
    print(json.dumps({"shipped": str(dest), **report, "train": summary["last10"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
