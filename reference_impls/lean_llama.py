"""A transformers Llama forward written out as plain tensor code, for the draft of speculative decoding.

At batch size 1 a tiny model's transformers forward is mostly Python overhead (modules, hooks,
masks, output objects), and the draft of speculative decoding runs gamma times per round. `LeanLlama`
runs the same computation on the same weights (RMSNorm, rotary positions, SwiGLU MLP, tied
embeddings) with the same `DynamicCache`, in a few tensor lines, and returns only the last position's
logits. Its logits match the transformers forward within float rounding (a test checks prefill,
single- and multi-token steps and cache crops). Only the draft uses it: the target verifies with its
own forward, so the output of speculative decoding is the target's whatever the draft computes.
`scripts/bench_speculative.py` times the loop with either forward for the draft.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch
import torch.nn.functional as F
from transformers import DynamicCache, PreTrainedModel


class LeanLlama:
    """A transformers Llama (no grouped-query attention, RoPE without scaling) as plain tensor code.

    Called like the model, `lean(input_ids=ids, past_key_values=cache, use_cache=True).logits`, with a
    DynamicCache (cropped as usual), it returns the logits of the LAST position only: (1, 1, V).
    """

    def __init__(self, model: PreTrainedModel):
        cfg, m = model.config, model.model
        self.heads, self.eps = cfg.num_attention_heads, cfg.rms_norm_eps
        self.embed = m.embed_tokens.weight  # (V, d)
        self.head = model.lm_head.weight  # (V, d), tied to the embedding in the zoo
        self.norm = m.norm.weight  # (d,)
        self.inv_freq = m.rotary_emb.inv_freq.float()  # (hd / 2,)
        self.rope_scale = float(m.rotary_emb.attention_scaling)
        self.layers = [
            (
                layer.input_layernorm.weight,
                torch.cat(
                    [layer.self_attn.q_proj.weight, layer.self_attn.k_proj.weight, layer.self_attn.v_proj.weight]
                ),
                layer.self_attn.o_proj.weight,
                layer.post_attention_layernorm.weight,
                torch.cat([layer.mlp.gate_proj.weight, layer.mlp.up_proj.weight]),
                layer.mlp.down_proj.weight,
            )
            for layer in m.layers
        ]
        assert cfg.num_key_value_heads == cfg.num_attention_heads and not cfg.attention_bias and not cfg.mlp_bias

    def _rms(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    @staticmethod
    def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x1, x2 = x.chunk(2, dim=-1)
        return x * cos + torch.cat([-x2, x1], dim=-1) * sin

    @torch.inference_mode()
    def __call__(self, input_ids: torch.Tensor, past_key_values: DynamicCache, use_cache: bool = True):
        T, past = input_ids.shape[1], past_key_values.get_seq_length()
        h = self.embed[input_ids[0]]  # (T, d)
        freqs = torch.arange(past, past + T, dtype=torch.float)[:, None] * self.inv_freq  # (T, hd/2)
        emb = torch.cat([freqs, freqs], dim=-1)  # (T, hd)
        cos, sin = emb.cos() * self.rope_scale, emb.sin() * self.rope_scale
        mask = None
        if T > 1:  # query i (position past + i) sees keys 0 .. past + i
            mask = torch.arange(past + T)[None, :] <= torch.arange(past, past + T)[:, None]  # (T, past + T)
        for i, (w_in, w_qkv, w_o, w_post, w_gu, w_down) in enumerate(self.layers):
            qkv = (self._rms(h, w_in) @ w_qkv.T).view(T, 3, self.heads, -1).transpose(0, 2)  # (H, 3, T, hd)
            q, k = self._rotate(qkv[:, 0], cos, sin), self._rotate(qkv[:, 1], cos, sin)  # (H, T, hd)
            k, v = past_key_values.update(k[None], qkv[:, 2][None], i)  # (1, H, past + T, hd)
            att = F.scaled_dot_product_attention(q[None], k, v, attn_mask=mask)  # (1, H, T, hd)
            h = h + att[0].transpose(0, 1).reshape(T, -1) @ w_o.T  # (T, d)
            gate, up = (self._rms(h, w_post) @ w_gu.T).chunk(2, dim=-1)  # (T, ff) each
            h = h + (F.silu(gate) * up) @ w_down.T
        logits = self._rms(h[-1:], self.norm) @ self.head.T  # (1, V)
        return SimpleNamespace(logits=logits[None])  # (1, 1, V)
