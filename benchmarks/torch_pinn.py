"""PyTorch speed baseline for the project's JAX PINN (convection, beta = 50).

Same network, loss, double-PINN regularizer (residual form) and L-BFGS (history 100, strong
Wolfe line search) as the project; the FP64 paper's reference code trains this way in PyTorch.

    python benchmarks/torch_pinn.py --cases a b c --iters 300 --json out.json
"""

import argparse
import json
import math
import os
import time

import torch

BETA = 50.0
X_MAX, T_MAX = 2 * math.pi, 1.0
CHUNK = 100  # L-BFGS iterations per optimizer.step call

# case -> (dtype, nx = nt, n_initial, n_boundary, double-PINN lambda or None)
CASES = {
    "a": (torch.float64, 101, 101, 101, None),  # vanilla FP64, dense grid
    "b": (torch.float32, 20, 200, 200, None),  # vanilla FP32, 400-point grid
    "c": (torch.float32, 20, 200, 200, 1e-4),  # double PINN FP32, 400-point grid
}


def mlp(dtype, width=128, depth=4):
    layers, n_in = [], 2
    for _ in range(depth):
        layers += [torch.nn.Linear(n_in, width), torch.nn.Tanh()]
        n_in = width
    layers.append(torch.nn.Linear(n_in, 1))
    net = torch.nn.Sequential(*layers).to(dtype)
    for m in net:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_normal_(m.weight)
            torch.nn.init.zeros_(m.bias)
    return net


def u_fn(net, x, t):
    """u(x, t) on column vectors, inputs mapped linearly from the domain to [-1, 1]."""
    z = torch.cat([2 * x / X_MAX - 1, 2 * t / T_MAX - 1], dim=1)
    return net(z)


def grad(out, inp):
    return torch.autograd.grad(out.sum(), inp, create_graph=True)[0]


def build_problem(case, dtype=None, device="cpu"):
    """Training points of a case as (N, 1) tensors, plus its dtype and double-PINN lambda."""
    case_dtype, n, n_init, n_bnd, lam = CASES[case]
    dtype = dtype or case_dtype
    xs = torch.linspace(0, X_MAX, n, dtype=dtype, device=device)
    ts = torch.linspace(0, T_MAX, n, dtype=dtype, device=device)
    xd, td = torch.meshgrid(xs, ts, indexing="ij")
    col = lambda v: v.reshape(-1, 1).requires_grad_(lam is not None)  # noqa: E731
    return {
        "case": case,
        "dtype": dtype,
        "lam": lam,
        "x_dom": xd.reshape(-1, 1).requires_grad_(True),
        "t_dom": td.reshape(-1, 1).requires_grad_(True),
        "x_init": col(torch.linspace(0, X_MAX, n_init, dtype=dtype, device=device)),
        "t_bnd": col(torch.linspace(0, T_MAX, n_bnd, dtype=dtype, device=device)),
    }


def loss_fn(net, p):
    """mean r_dom^2 + mean r_init^2 + mean r_per^2 (+ lambda * residual-gradient penalty)."""
    x, t = p["x_dom"], p["t_dom"]
    u = u_fn(net, x, t)
    r_dom = grad(u, t) + BETA * grad(u, x)
    xi = p["x_init"]
    r_init = u_fn(net, xi, torch.zeros_like(xi)) - torch.sin(xi)
    tb = p["t_bnd"]
    r_per = u_fn(net, torch.zeros_like(tb), tb) - u_fn(net, torch.full_like(tb, X_MAX), tb)
    loss = r_dom.square().mean() + r_init.square().mean() + r_per.square().mean()
    if p["lam"] is not None:
        penalty = (
            (grad(r_dom, x).square() + grad(r_dom, t).square()).mean()
            + grad(r_init, xi).square().mean()
            + grad(r_per, tb).square().mean()
        )
        loss = loss + p["lam"] * penalty
    return loss


def benchmark(case, iters, dtype=None, seed=0, threads=None, n_loss_grad=50, device="cpu"):
    """Time `iters` L-BFGS iterations from initialization (after a loss+grad warm-up).

    threads: torch CPU threads, default all cores available to this process.
    device: "cpu" or "cuda" (timings then synchronize the device).
    """
    torch.set_num_threads(threads or len(os.sched_getaffinity(0)))
    torch.manual_seed(seed)
    p = build_problem(case, dtype, device)
    net = mlp(p["dtype"]).to(device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    params = list(net.parameters())

    def loss_and_grad():
        for w in params:
            w.grad = None
        loss = loss_fn(net, p)
        loss.backward()
        return loss

    for _ in range(5):  # warm-up
        loss_and_grad()
    sync()
    t0 = time.perf_counter()
    for _ in range(n_loss_grad):
        loss_and_grad()
    sync()
    loss_grad_per_s = n_loss_grad / (time.perf_counter() - t0)

    opt = torch.optim.LBFGS(
        params, lr=1, history_size=100, line_search_fn="strong_wolfe",
        max_iter=CHUNK, tolerance_grad=0, tolerance_change=0,
    )
    group = opt.param_groups[0]
    done = 0
    t0 = time.perf_counter()
    while done < iters:
        group["max_iter"] = min(CHUNK, iters - done)
        group["max_eval"] = group["max_iter"] * 5 // 4
        opt.step(loss_and_grad)
        n_iter = opt.state[opt._params[0]]["n_iter"]
        if n_iter == done:  # gradient exactly zero: L-BFGS makes no progress
            break
        done = n_iter
    sync()
    seconds = time.perf_counter() - t0
    evals = opt.state[opt._params[0]]["func_evals"]
    return {
        "case": case,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "iterations": done,
        "func_evals": evals,
        "seconds": seconds,
        "iters_per_s": done / seconds,
        "evals_per_s": evals / seconds,
        "loss_grad_per_s": loss_grad_per_s,
        "final_loss": loss_fn(net, p).item(),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--iters", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, help="torch CPU threads (default: all cores)")
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {args.threads or len(os.sched_getaffinity(0))} threads")
    print(f"{'case':4} {'iters':>6} {'evals':>6} {'s':>8} {'it/s':>8} {'eval/s':>8} "
          f"{'l+g/s':>8} {'final loss':>11}")
    results = []
    for case in args.cases:
        r = benchmark(case, args.iters, seed=args.seed, threads=args.threads)
        results.append(r)
        print(f"{case:4} {r['iterations']:6d} {r['func_evals']:6d} {r['seconds']:8.2f} "
              f"{r['iters_per_s']:8.1f} {r['evals_per_s']:8.1f} {r['loss_grad_per_s']:8.1f} "
              f"{r['final_loss']:11.3e}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
