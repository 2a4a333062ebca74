"""PyTorch twins of ld4lg's E2E models, timed on the same work as `examples/throughput`.

Each twin has the layers, widths, attention masks, optimiser (AdamW with the configured
epsilon, weight decay, beta2 and global-norm clipping) and batch of its ld4lg counterpart; the
synthetic batches follow the same formulas (`examples/throughput/steps.rs`). Weights are random:
only time is measured. Generation runs the shipped shapes (denoiser width 192, 6 blocks,
DPM-Solver++ 2M with self-conditioning, then greedy decoding with a key/value cache); each
sample stops at the length ld4lg's own decoding gave it (`--lengths`), so both do the same work.

    python3 scripts/bench/twin.py --what denoiser --threads 2 --steps 20
    python3 scripts/bench/twin.py --what generate --lengths lengths.json --batch 250

Prints one JSON object per measurement. Needs `pip install torch` (benchmarks only).
"""

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

VOCAB = 3993
SEQ = 48
BOS, EOS = 1, 2


def config(path):
    with open(path) as f:
        return json.load(f)


def lengths(batch):
    return [SEQ if i == 0 else 16 + (i * 7) % (SEQ - 15) for i in range(batch)]


def text_batch(batch):
    ids = torch.zeros(batch, SEQ, dtype=torch.long)
    padding = torch.zeros(batch, SEQ, dtype=torch.bool)
    for row, n in enumerate(lengths(batch)):
        for p in range(SEQ):
            if p == 0:
                ids[row, p] = BOS
            elif p + 1 == n:
                ids[row, p] = EOS
            elif p < n:
                ids[row, p] = 5 + (row * 131 + p * 17) % (VOCAB - 5)
            padding[row, p] = p >= n
    return ids, padding


class Attention(nn.Module):
    def __init__(self, d, heads, d_context=None, qk_norm=False):
        super().__init__()
        d_context = d_context or d
        self.heads = heads
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d_context, d)
        self.value = nn.Linear(d_context, d)
        self.output = nn.Linear(d, d)
        head = d // heads
        self.query_norm = nn.RMSNorm(head, eps=1e-5) if qk_norm else None
        self.key_norm = nn.RMSNorm(head, eps=1e-5) if qk_norm else None

    def split(self, x):
        b, n, d = x.shape
        return x.view(b, n, self.heads, d // self.heads).transpose(1, 2)

    def key_value(self, context):
        k = self.split(self.key(context))
        if self.key_norm is not None:
            k = self.key_norm(k)
        return k, self.split(self.value(context))

    def attend(self, x, k, v, padding=None, causal=False):
        b, n, d = x.shape
        q = self.split(self.query(x))
        if self.query_norm is not None:
            q = self.query_norm(q)
        mask = None if padding is None else ~padding[:, None, None, :]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
        return self.output(out.transpose(1, 2).reshape(b, n, d))

    def forward(self, x, context, padding=None, causal=False):
        k, v = self.key_value(context)
        return self.attend(x, k, v, padding, causal)


class Block(nn.Module):
    """Pre-norm transformer block (ld4lg_nn::TransformerBlock)."""

    def __init__(self, d, heads, d_cross=None):
        super().__init__()
        self.self_norm = nn.LayerNorm(d)
        self.self_attention = Attention(d, heads)
        self.cross = None
        if d_cross:
            self.cross_norm = nn.LayerNorm(d)
            self.cross = Attention(d, heads, d_cross)
        self.mlp_norm = nn.LayerNorm(d)
        self.mlp_in = nn.Linear(d, 4 * d)
        self.mlp_out = nn.Linear(4 * d, d)

    def forward(self, x, padding=None, causal=False, memory=None):
        h = self.self_norm(x)
        x = x + self.self_attention(h, h, padding, causal)
        if self.cross is not None and memory is not None:
            x = x + self.cross(self.cross_norm(x), memory)
        return x + self.mlp_out(F.gelu(self.mlp_in(self.mlp_norm(x))))

    def step(self, x, cache):
        h = self.self_norm(x)
        k, v = self.self_attention.key_value(h)
        if "k" in cache:
            k = torch.cat([cache["k"], k], 2)
            v = torch.cat([cache["v"], v], 2)
        cache["k"], cache["v"] = k, v
        x = x + self.self_attention.attend(h, k, v)
        x = x + self.cross.attend(self.cross_norm(x), cache["ck"], cache["cv"])
        return x + self.mlp_out(F.gelu(self.mlp_in(self.mlp_norm(x))))


class AdaLnBlock(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.modulation = nn.Linear(d, 6 * d)
        self.attention_norm = nn.LayerNorm(d, elementwise_affine=False)
        self.attention = Attention(d, heads)
        self.mlp_norm = nn.LayerNorm(d, elementwise_affine=False)
        self.mlp_in = nn.Linear(d, 4 * d)
        self.mlp_out = nn.Linear(4 * d, d)

    def forward(self, x, c):
        m = self.modulation(c).view(x.shape[0], 6, 1, x.shape[2]).unbind(1)
        h = self.attention_norm(x) * (m[1] + 1) + m[0]
        x = x + self.attention(h, h) * m[2]
        h = self.mlp_norm(x) * (m[4] + 1) + m[3]
        return x + self.mlp_out(F.gelu(self.mlp_in(h))) * m[5]


class Denoiser(nn.Module):
    """ld4lg_denoiser::LatentDenoiser: self-conditioning input, adaLN blocks, dense skips."""

    def __init__(self, l, d_latent, d, layers, heads):
        super().__init__()
        self.input = nn.Linear(2 * d_latent, d)
        self.positions = nn.Parameter(torch.randn(l, d) * 0.02)
        self.null_self_cond = nn.Parameter(torch.randn(d_latent))
        self.hidden = nn.Linear(128, 4 * d)
        self.time_out = nn.Linear(4 * d, d)
        self.blocks = nn.ModuleList(AdaLnBlock(d, heads) for _ in range(layers))
        self.skips = nn.ModuleList(nn.Linear(2 * d, d) for _ in range(layers // 2))
        self.output_norm = nn.LayerNorm(d)
        self.output = nn.Linear(d, d_latent)

    def forward(self, z, alpha_bar, self_cond=None):
        b, l, dl = z.shape
        if self_cond is None:
            self_cond = self.null_self_cond.view(1, 1, dl).expand(b, l, dl)
        x = self.input(torch.cat([z, self_cond], 2)) + self.positions[:l]
        half = 64
        freqs = torch.exp(torch.arange(half) * (-math.log(10000.0) / half))
        angles = (alpha_bar * 1000.0)[:, None] * freqs[None]
        c = self.time_out(F.gelu(self.hidden(torch.cat([angles.sin(), angles.cos()], 1))))
        n, saved = len(self.blocks), []
        for i, block in enumerate(self.blocks):
            if i >= n - len(self.skips):
                x = self.skips[n - 1 - i](torch.cat([x, saved.pop()], 2))
            x = block(x, c)
            if i < len(self.skips):
                saved.append(x)
        return self.output(self.output_norm(x))


def log_snr(t):
    return -2.0 * torch.log(torch.tan(math.pi * t / 2.0))


def coefficients(t):
    lam = log_snr(t)
    alpha = torch.sigmoid(lam).sqrt()
    sigma = torch.sigmoid(-lam).sqrt()
    return alpha, sigma


class Perceiver(nn.Module):
    def __init__(self, d, latents, layers, heads):
        super().__init__()
        self.latents = nn.Parameter(torch.randn(latents, d))
        self.layers = nn.ModuleList()
        for _ in range(layers):
            layer = nn.Module()
            layer.latent_norm = nn.LayerNorm(d)
            layer.context_norm = nn.LayerNorm(d)
            layer.attention = Attention(d, heads, qk_norm=True)
            layer.mlp_norm = nn.LayerNorm(d)
            layer.mlp_in = nn.Linear(d, 4 * d)
            layer.mlp_out = nn.Linear(4 * d, d)
            self.layers.append(layer)
        self.norm = nn.LayerNorm(d)

    def forward(self, states, padding):
        b = states.shape[0]
        x = self.latents[None].expand(b, -1, -1)
        padding = torch.cat([padding, torch.zeros(b, x.shape[1], dtype=torch.bool)], 1)
        for layer in self.layers:
            h = layer.latent_norm(x)
            context = torch.cat([layer.context_norm(states), h], 1)
            x = x + layer.attention(h, context, padding)
            x = x + layer.mlp_out(F.gelu(layer.mlp_in(layer.mlp_norm(x))))
        return self.norm(x)


class Autoencoder(nn.Module):
    """ld4lg_autoencoder::Autoencoder: encoder, Perceiver, L2-sphere latents, expander and a
    parallel (configs/e2e-autoencoder.json) or autoregressive (the shipped model) decoder."""

    def __init__(self, m):
        super().__init__()
        d, heads, dd = m["d_model"], m["n_heads"], m["d_decoder"]
        self.tokens = nn.Embedding(VOCAB, d)
        self.positions = nn.Parameter(torch.randn(m["max_len"], d) * 0.02)
        self.encoder = nn.ModuleList(Block(d, heads) for _ in range(m["encoder_layers"]))
        self.encoder_norm = nn.LayerNorm(d)
        self.perceiver = Perceiver(d, m["num_latents"], m["perceiver_layers"], heads)
        self.to_latent = nn.Linear(d, m["d_latent"])
        self.up = nn.Linear(m["d_latent"], dd)
        self.latent_positions = nn.Parameter(torch.randn(m["num_latents"], dd) * 0.02)
        self.expander = nn.ModuleList(
            Block(dd, heads) for _ in range(m["reconstruction_layers"]))
        self.expander_norm = nn.LayerNorm(dd)
        self.parallel = m["decoder"] == "Parallel"
        self.queries = nn.Parameter(torch.randn(m["max_len"], dd) * 0.02)
        if not self.parallel:
            self.decoder_tokens = nn.Embedding(VOCAB, dd)
        self.decoder = nn.ModuleList(Block(dd, heads, dd) for _ in range(m["decoder_layers"]))
        self.decoder_norm = nn.LayerNorm(dd)
        self.head = nn.Linear(dd, VOCAB)
        self.latent_noise = m["latent_noise"]
        self.d_latent = m["d_latent"]

    def encode(self, ids, padding):
        x = self.tokens(ids) + self.positions[: ids.shape[1]]
        for block in self.encoder:
            x = block(x, padding)
        raw = self.to_latent(self.perceiver(self.encoder_norm(x), padding))
        norm = raw.pow(2).sum(2, keepdim=True).sqrt().clamp_min(1e-6)
        return raw / norm * math.sqrt(self.d_latent)

    def expand(self, latents):
        x = self.up(latents) + self.latent_positions[: latents.shape[1]]
        for block in self.expander:
            x = block(x)
        return self.expander_norm(x)

    def loss(self, ids, padding):
        latents = self.encode(ids, padding)
        rms = latents.detach().pow(2).mean().sqrt()
        latents = latents + torch.randn_like(latents) * rms * self.latent_noise
        memory = self.expand(latents)
        b, n = ids.shape
        x = self.queries[:n][None].expand(b, n, -1)
        for block in self.decoder:
            x = block(x, memory=memory)
        logits = self.head(self.decoder_norm(x))
        logits.argmax(2)  # ld4lg's forward_loss also returns the predictions
        return F.cross_entropy(logits.reshape(b * n, VOCAB), ids.reshape(b * n), ignore_index=0)

    @torch.no_grad()
    def greedy(self, latents, stop_at):
        """Greedy decoding with a key/value cache; row i stops after stop_at[i] tokens (the
        length ld4lg's decoding produced), finished rows leave the batch as in ld4lg."""
        memory = self.expand(latents)
        caches = []
        for block in self.decoder:
            ck, cv = block.cross.key_value(memory)
            caches.append({"ck": ck, "cv": cv})
        active = list(range(latents.shape[0]))
        last = torch.full((len(active),), BOS, dtype=torch.long)
        produced = [0] * len(active)
        for position in range(1, self.queries.shape[0]):
            x = self.decoder_tokens(last)[:, None] + self.queries[position - 1]
            for block, cache in zip(self.decoder, caches):
                x = block.step(x, cache)
            best = self.head(self.decoder_norm(x))[:, 0].argmax(1).tolist()
            kept = []
            for row, b in enumerate(active):
                produced[b] += 1
                if produced[b] < stop_at[b]:
                    kept.append(row)
            if not kept:
                break
            if len(kept) < len(active):
                index = torch.tensor(kept)
                for cache in caches:
                    for key in cache:
                        cache[key] = cache[key].index_select(0, index)
                active = [active[row] for row in kept]
            last = torch.tensor([best[row] for row in kept], dtype=torch.long)
        return sum(produced)


class CausalLm(nn.Module):
    def __init__(self, m):
        super().__init__()
        d = m["d_model"]
        self.tokens = nn.Embedding(VOCAB, d)
        self.positions = nn.Parameter(torch.randn(m["max_len"], d) * 0.02)
        self.blocks = nn.ModuleList(Block(d, m["n_heads"]) for _ in range(m["n_layers"]))
        self.norm = nn.LayerNorm(d)
        self.bias = nn.Parameter(torch.zeros(VOCAB))

    def loss(self, ids, padding):
        inputs, targets = ids[:, :-1], ids[:, 1:]
        x = self.tokens(inputs) + self.positions[: inputs.shape[1]]
        for block in self.blocks:
            x = block(x, causal=True)
        logits = self.norm(x) @ self.tokens.weight.t() + self.bias
        picked = F.log_softmax(logits, 2).gather(2, targets[..., None])[..., 0]
        real = (~padding[:, 1:]).float()
        return -(picked * real).sum() / real.sum().clamp_min(1.0)


def optimizer(model, training):
    return torch.optim.AdamW(
        model.parameters(), lr=1e-4, betas=(0.9, training.get("adam_beta2", 0.99)),
        eps=training.get("adam_eps", 1e-8), weight_decay=training.get("weight_decay", 0.01))


def train_step(model, opt, loss_fn, clip):
    opt.zero_grad(set_to_none=True)
    loss = loss_fn()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return loss


def step_function(what):
    if what == "denoiser":
        cfg = config("configs/e2e-diffusion.json")
        m, training = cfg["denoiser"], cfg["training"]
        batch, (l, d) = training["batch_size"], (16, 32)
        model = Denoiser(l, d, m["d_model"], m["n_layers"], m["n_heads"])
        opt = optimizer(model, training)
        x0 = torch.randn(batch, l, d)
        t = (torch.arange(batch, dtype=torch.float32) + 0.5) / batch
        alpha, sigma = coefficients(t)
        alpha_bar = alpha**2
        alpha, sigma = alpha[:, None, None], sigma[:, None, None]
        counter = [0]

        def loss_fn():
            noise = torch.randn_like(x0)
            z = alpha * x0 + sigma * noise
            self_cond = None
            if counter[0] % 2 == 1:
                with torch.no_grad():
                    v = model(z, alpha_bar)
                    self_cond = alpha * z - sigma * v
            counter[0] += 1
            v = model(z, alpha_bar, self_cond)
            target = alpha * noise - sigma * x0
            return (v - target).pow(2).mean(2).mean(1).mean()

        return lambda: train_step(model, opt, loss_fn, training.get("grad_clip", 1.0))
    if what == "autoencoder":
        cfg = config("configs/e2e-autoencoder.json")
        model = Autoencoder(cfg["model"])
        ids, padding = text_batch(cfg["training"]["batch_size"])
        opt = optimizer(model, cfg["training"])
        return lambda: train_step(model, opt, lambda: model.loss(ids, padding),
                                  cfg["training"].get("grad_clip", 1.0))
    if what == "lm":
        cfg = config("configs/e2e-lm.json")
        model = CausalLm(cfg["model"])
        ids, padding = text_batch(cfg["training"]["batch_size"])
        opt = optimizer(model, cfg["training"])

        def step():
            loss = train_step(model, opt, lambda: model.loss(ids, padding),
                              cfg["training"].get("grad_clip", 1.0))
            loss.item()  # ld4lg's loop reads every step's loss

        return step
    raise SystemExit(f"unknown --what {what}")


@torch.no_grad()
def dpm_solver_2m(model, batch, steps, shape):
    """DPM-Solver++ (2M) in log-SNR, v-prediction, self-conditioning on the last estimate."""
    ts = torch.linspace(1.0, 0.0, steps + 1).clamp(1e-4, 1 - 1e-4)
    z = torch.randn(batch, *shape)
    x0_prev, h_prev, self_cond = None, None, None
    for i in range(steps):
        t, s = ts[i], ts[i + 1]
        alpha_t, sigma_t = coefficients(t)
        alpha_s, sigma_s = coefficients(s)
        v = model(z, torch.full((batch,), float(alpha_t**2)), self_cond)
        x0 = alpha_t * z - sigma_t * v
        self_cond = x0
        h = (log_snr(s) - log_snr(t)) / 2
        if x0_prev is None or i == steps - 1:
            d = x0
        else:
            r = h_prev / h
            d = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * x0_prev
        z = (sigma_s / sigma_t) * z - alpha_s * torch.expm1(-h) * d
        x0_prev, h_prev = x0, h
    return z


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--what", default="denoiser")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--sampler-steps", type=int, default=50)
    parser.add_argument("--lengths", help="JSON list: tokens ld4lg produced per sample")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda for a GPU")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_default_device(args.device)

    def sync():
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    torch.manual_seed(0)
    common = {"system": "pytorch", "version": torch.__version__, "threads": args.threads,
              "device": args.device}
    if args.what == "generate":
        with open(args.lengths) as f:
            stop_at = json.load(f)
        if len(stop_at) % args.batch:
            raise SystemExit("the number of samples must be a multiple of --batch")
        m = config("models/e2e/autoencoder/model.json")
        d = config("models/e2e/diffusion/model.json")
        autoencoder = Autoencoder(m).eval()
        denoiser = Denoiser(16, 32, d["d_model"], d["n_layers"], d["n_heads"]).eval()
        shape = (m["num_latents"], m["d_latent"])
        autoencoder.greedy(dpm_solver_2m(denoiser, 8, args.sampler_steps, shape), [20] * 8)
        denoise = decode = 0.0
        tokens = 0
        for b in range(len(stop_at) // args.batch):
            start = time.perf_counter()
            latents = dpm_solver_2m(denoiser, args.batch, args.sampler_steps, shape)
            sync()
            denoise += time.perf_counter() - start
            start = time.perf_counter()
            tokens += autoencoder.greedy(latents, stop_at[b * args.batch:(b + 1) * args.batch])
            decode += time.perf_counter() - start
        print(json.dumps({**common, "what": "generate", "samples": len(stop_at),
                          "batch": args.batch, "sampler_steps": args.sampler_steps,
                          "denoise_seconds": round(denoise, 3),
                          "decode_seconds": round(decode, 3), "tokens": tokens,
                          "tokens_per_second": round(tokens / (denoise + decode), 1)}))
        return
    step = step_function(args.what)
    for _ in range(args.warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    seconds = (time.perf_counter() - start) / args.steps
    print(json.dumps({**common, "what": args.what, "steps": args.steps,
                      "seconds_per_step": round(seconds, 5)}))


if __name__ == "__main__":
    main()
