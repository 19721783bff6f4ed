"""Train the shipped SMILES GRU prior on MOSES train (streamed from the molsets wheel) and report
validity / uniqueness / novelty of samples.

    pip download --no-deps molsets==0.3.1 -d benchmarks/cache/
    nice -n 10 python benchmarks/generate_prior.py train --minutes 14
    python benchmarks/generate_prior.py evaluate --n 2000

Training resumes from ``<out>/checkpoint.pt`` when it exists (``--fresh`` starts over).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

WHEEL = Path(__file__).resolve().parent / "cache" / "molsets-0.3.1-py3-none-any.whl"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["train", "evaluate", "ship"])
    ap.add_argument("--wheel", default=str(WHEEL), help="molsets-0.3.1 wheel (zip) holding MOSES train")
    ap.add_argument("--out", default="benchmarks/cache/prior_run", help="checkpoint / output directory")
    ap.add_argument("--minutes", type=float, default=14.0, help="wall-time budget for this training call")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    ap.add_argument("--init", default=None, help="start from these prior weights (dir or prior.pt) when no checkpoint")
    ap.add_argument("--init-seen", type=int, default=0, help="molecules the --init weights saw (skipped, counted)")
    ap.add_argument("--kind", choices=["smiles", "selfies"], default="smiles", help="token language (new priors)")
    ap.add_argument("--name", default="smiles-gru-prior", help="ship: model name (weights/<name>/)")
    ap.add_argument("--epochs", type=int, default=1, help="passes over MOSES train (file order each time)")
    ap.add_argument("--lr-final", type=float, default=None, help="cosine-decay the rate to this over --minutes")
    ap.add_argument("--retrain", default="--minutes 14", help="ship: the training arguments, for the card")
    ap.add_argument("--n", type=int, default=2000, help="samples for evaluate")
    ap.add_argument("--novelty-rows", type=int, default=1_584_663, help="MOSES train rows for novelty")
    args = ap.parse_args(argv)

    import torch

    from theralab.discovery.generate.prior import (
        Vocabulary,
        load_prior,
        moses_smiles,
        sample_report,
        train_prior,
    )

    torch.set_num_threads(1)
    torch.manual_seed(0)
    if args.action == "train":
        n_vocab = 200_000 if args.kind == "smiles" else 50_000  # the SELFIES encoder is slow
        vocab = Vocabulary.build(itertools.islice(moses_smiles(args.wheel), n_vocab), kind=args.kind)
        source = itertools.chain.from_iterable(moses_smiles(args.wheel) for _ in range(args.epochs))
        summary = train_prior(source, args.out, vocab, batch_size=args.batch_size, lr=args.lr,
                              max_minutes=args.minutes, resume=not args.fresh,
                              hparams={"embed": 32, "hidden": args.hidden, "layers": args.layers},
                              init=load_prior(args.init) if args.init else None, init_seen=args.init_seen,
                              lr_final=args.lr_final)
        print(json.dumps(summary))
        return 0
    path = Path(args.out) / "prior.pt"
    prior = load_prior(path)
    smiles: list[str] = []
    while len(smiles) < args.n:
        batch, _ = prior.sample(min(500, args.n - len(smiles)), seed=len(smiles) + 1)
        smiles += batch
    train = set(itertools.islice(moses_smiles(args.wheel), args.novelty_rows))
    report = sample_report(smiles, train)
    print(json.dumps({"prior": str(path), **report}))
    print("published CharRNN (MOSES): validity 0.975, novelty 0.842; LatentGAN validity 0.897")
    if args.action == "ship":
        import shutil

        from theralab.discovery.generate.prior import WEIGHTS_DIR
        from theralab.models.registry import ModelCard, save_card

        log = json.loads((Path(args.out) / "train_log.json").read_text())
        minutes = log.get("seconds_total", log["seconds"]) / 60
        dest = WEIGHTS_DIR.parent / args.name
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest / "prior.pt")
        card = ModelCard(
            name=args.name, task="generation", version="1",
            description=(f"{prior.vocab.kind.upper()} GRU language model ({prior.hparams}), prior for theralab "
                         "generate. Trained "
                         f"{minutes:.0f} min on one shared CPU core: it saw {log['consumed']:,} molecules "
                         f"({log['consumed'] / 1_584_663:.2f} epochs of MOSES train), so it is under-trained "
                         "next to MOSES's CharRNN; retrain longer (the command resumes) for a stronger prior."),
            training_data={"source": "MOSES train, molsets==0.3.1 wheel moses/dataset/data/train.csv.gz "
                                     "(MIT), streamed in file order", "rows": log["consumed"]},
            metrics={**{k: round(v, 4) for k, v in report.items()}, "samples_seed": 1,
                     "loss_per_token_train_ema": round(log["loss_per_token"], 4)},
            seeds=[0],
            retrain=("pip download --no-deps molsets==0.3.1 -d benchmarks/cache/ && "
                     f"nice -n 15 python benchmarks/generate_prior.py train {args.retrain} && "
                     f"python benchmarks/generate_prior.py ship --n 2000 --out {args.out} --name {args.name}"),
            loader="theralab.discovery.generate.prior:load_predictor_dir",
        )
        save_card(dest, card)
        print(f"shipped to {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
