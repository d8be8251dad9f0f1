"""The machine line of records and pages (paddle_tricks/utils/machine.py)."""
from paddle_tricks.utils.machine import cpu_model, machine_info, vector_isa

CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 sse4_2 avx fma avx2 {extra}

processor\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 sse4_2 avx fma avx2 avx512f
"""


def test_widest_vector_instruction_set():
    assert vector_isa({"sse4_2", "avx", "avx2", "avx512f", "fma"}) == "AVX-512"
    assert vector_isa({"sse4_2", "avx", "avx2", "fma"}) == "AVX2"
    assert vector_isa({"sse4_2", "avx"}) == "AVX"
    assert vector_isa({"sse4_2", "neon"}) is None


def test_cpu_model_is_the_first_cpus_name_and_isa(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text(CPUINFO.format(extra=""))
    assert cpu_model(str(info)) == "AMD EPYC (AVX2)"          # the first CPU's flags, not the second's
    info.write_text(CPUINFO.format(extra="avx512f avx512bw"))
    assert cpu_model(str(info)) == "AMD EPYC (AVX-512)"
    info.write_text("processor\t: 0\nmodel name\t: Some ARM core\nFeatures\t: neon\n")
    assert cpu_model(str(info)) == "Some ARM core"             # no x86 vector set: the name alone
    assert cpu_model(str(tmp_path / "missing")) != ""          # unreadable: platform's name or "unknown CPU"


def test_machine_line():
    line = machine_info()
    assert line.startswith(cpu_model() + ", ") and "logical cores" in line and "Paddle " in line
