"""Regenerate the regression corpus of nasty checkpoints:
``python -m tests.hardening.make_corpus`` (files are committed)."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import torch

from tests.hardening.fuzzing import PLACEHOLDER, base_dict, splice_deep_list, to_bytes

OUT = Path(__file__).with_name("corpus")


class _RunsCode:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (print, ("this must never be printed",))


def cases() -> dict[str, bytes]:
    c: dict[str, bytes] = {}

    def variant(name, fn):  # type: ignore[no-untyped-def]
        d = base_dict()
        fn(d)
        c[name] = to_bytes(d)

    variant("huge_n_inputs", lambda d: d.update(n_inputs=2**40))
    variant("negative_index", lambda d: d["layers"][0]["inputs"].__setitem__((0, 0), -5))
    variant("index_past_end", lambda d: d["layers"][1]["inputs"].__setitem__((3, 1), 40))
    variant("k7", lambda d: d["layers"][0].update(k=7))
    variant("table_too_wide", lambda d: d["layers"][0]["tables"].__setitem__(0, 1 << 20))
    variant("nan_threshold", lambda d: d["encoder"]["thresholds"].__setitem__((3, 0), float("nan")))
    variant("classes_not_dividing", lambda d: d["group_sum"].update(classes=3))
    variant("zero_tau", lambda d: d["group_sum"].update(tau=0.0))
    variant("empty_layers", lambda d: d.update(layers=[]))
    variant("empty_layer", lambda d: d["layers"][1].update(inputs=torch.zeros((0, 3), dtype=torch.int64),
                                                            tables=torch.zeros((0,), dtype=torch.int64)))
    variant("float_tables", lambda d: d["layers"][0].update(tables=d["layers"][0]["tables"].float()))
    variant("bool_inputs", lambda d: d["layers"][0].update(inputs=d["layers"][0]["inputs"].bool()))
    variant("version_99", lambda d: d.update(version=99))
    variant("string_k", lambda d: d["layers"][0].update(k="2"))
    variant("outputs_out_of_range", lambda d: d.update(outputs=torch.tensor([10**9])))
    variant("encoder_width_mismatch", lambda d: d["encoder"].update(thresholds=torch.zeros((3, 3),
                                                                                         dtype=torch.float64)))
    variant("metadata_not_dict", lambda d: d.update(metadata=[1, 2, 3]))
    variant("inf_threshold", lambda d: d["encoder"]["thresholds"].__setitem__((0, 0), float("inf")))
    variant("k0", lambda d: d["layers"][0].update(k=0))
    variant("reads_bogus", lambda d: d["layers"][0].update(reads="next"))
    variant("tables_2d", lambda d: d["layers"][0].update(tables=d["layers"][0]["tables"].reshape(-1, 1)))
    variant("encoder_kind_unknown", lambda d: d["encoder"].update(kind="onehot"))
    variant("group_sum_not_dict", lambda d: d.update(group_sum=[10, 1.0]))
    variant("missing_n_inputs", lambda d: d.pop("n_inputs"))
    variant("missing_layers", lambda d: d.pop("layers"))
    variant("missing_tables", lambda d: d["layers"][1].pop("tables"))
    variant("version_bool", lambda d: d.update(version=True))
    variant("n_inputs_float", lambda d: d.update(n_inputs=64.0))
    variant("tau_nan", lambda d: d["group_sum"].update(tau=float("nan")))
    variant("beta_inf", lambda d: d["group_sum"].update(beta=float("inf")))
    variant("outputs_2d", lambda d: d.update(outputs=torch.zeros((2, 2), dtype=torch.int64)))
    variant("layer_not_dict", lambda d: d["layers"].__setitem__(0, [1, 2, 3]))
    variant("layers_not_list", lambda d: d.update(layers={"0": d["layers"][0]}))
    variant("huge_classes", lambda d: d["group_sum"].update(classes=2**40))
    variant("huge_format_string", lambda d: d.update(format="x" * 10**5))
    variant("sparse_tables", lambda d: d["layers"][0].update(tables=d["layers"][0]["tables"].to_sparse()))
    variant("complex_thresholds", lambda d: d["encoder"].update(
        thresholds=d["encoder"]["thresholds"].to(torch.complex64)))
    variant("thresholds_1d", lambda d: d["encoder"].update(thresholds=d["encoder"]["thresholds"].reshape(-1)))
    variant("metadata_tensor", lambda d: d.update(metadata={"t": torch.zeros(10**4)}))
    for name, place in (("deep_metadata", lambda d: d["metadata"].update(deep=PLACEHOLDER)),
                        ("deep_format", lambda d: d.update(format=PLACEHOLDER)),
                        ("deep_reads", lambda d: d["layers"][0].update(reads=PLACEHOLDER))):
        d = base_dict()
        place(d)
        c[name] = splice_deep_list(to_bytes(d), 100_000)
    full = to_bytes(base_dict())
    c["truncated"] = full[: len(full) // 2]
    c["empty_file"] = b""
    c["not_a_zip"] = b"PK\x03\x04" + b"\x00" * 100
    buf = io.BytesIO()
    torch.save({"format": "lut2rtl-checkpoint", "version": 1, "evil": _RunsCode()}, buf)
    c["pickled_callable"] = buf.getvalue()
    c["raw_pickle_callable"] = pickle.dumps(_RunsCode())
    c["float_baseline"] = to_bytes({"kind": "float-baseline", "method": "mlp", "state_dict": {}})
    return c


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, data in sorted(cases().items()):
        (OUT / f"{name}.pt").write_bytes(data)
    print(f"wrote {len(cases())} files to {OUT}")


if __name__ == "__main__":
    main()
