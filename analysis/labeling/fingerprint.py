"""What decides llama.cpp's numbers on this machine, and whether two machines should give identical labels.

``make setup`` compiles llama.cpp for the CPU it runs on: its kernels use the
instruction sets found there (AVX, AVX2, AVX-512, FMA, F16C, ...), and kernels
of different widths add the same products up in a different order, so their
logits differ in the last digits. A ``p_yes`` then moves a little, and a
report whose ``p_yes`` lies near the decision boundary can change its answer.

``system_info`` records what decides this: the CPU and the instruction sets
it offers (``/proc/cpuinfo``), the features llama.cpp was built with (its own
``llama_print_system_info``), the compiler of its CPU kernels and the
llama-cpp-python version (which pins llama.cpp's source). ``fingerprint``
condenses the last three; ``expected_identical`` says whether two records
should give identical labels and ``differences`` names what differs. The
thread count is recorded but left out of the fingerprint: llama.cpp gives
each thread whole dot products, and the embedded server on one and on two
threads gave the same answers, ``p_yes`` to the bit (README, "Speed").

This is llama.cpp as installed where the pipeline runs, and so the embedded
server's when it runs here (``make paper`` starts it on this machine). The
pipeline may import it (unlike ``analysis.serving``): it asks llama.cpp
about its build and runs no model.
"""

import os
import platform
import re
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
# The instruction sets llama.cpp's CPU kernels are built for, as Linux names them (x86, then Arm).
KERNEL_FLAGS = {"sse3", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "avx_vnni",
                "amx_tile", "amx_int8", "amx_bf16", "asimd", "asimddp", "asimdhp", "i8mm", "sve", "sve2", "bf16"}
KERNEL_FLAG_PREFIXES = ("avx512",)
LINUX_FLAG_NAMES = {"pni": "sse3"}  # Linux calls SSE3 "pni" (Prescott New Instructions)
# The compiler's signature that GCC and Clang leave in the .comment section of the libraries they build.
COMPILER = re.compile(rb"GCC: \([^)]*\) ([0-9][0-9.]*)|clang version ([0-9][0-9.]*)")
NOTE = ("llama.cpp as installed where the pipeline ran: the embedded server's kernels when it ran there; another "
        "server (Ollama, vLLM, llama-server, any remote host) computes with its own build, whose version the "
        "manifest's servers record")


def _cpuinfo_field(cpuinfo: str, *names: str) -> str | None:
    """The first value of any of ``names`` in ``/proc/cpuinfo`` (one block per core; the first core's)."""
    for line in cpuinfo.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in names:
            return value.strip()
    return None


def cpu_model(cpuinfo: str) -> str:
    return _cpuinfo_field(cpuinfo, "model name", "Model", "Hardware") or platform.processor() or platform.machine()


def kernel_flags(cpuinfo: str) -> list[str]:
    """The instruction sets of ``KERNEL_FLAGS`` that the CPU offers, sorted; empty without ``/proc/cpuinfo``."""
    flags = {LINUX_FLAG_NAMES.get(flag, flag) for flag in (_cpuinfo_field(cpuinfo, "flags", "Features") or "").split()}
    return sorted(flag for flag in flags if flag in KERNEL_FLAGS or flag.startswith(KERNEL_FLAG_PREFIXES))


def parse_system_info(text: str) -> dict[str, dict[str, str]]:
    """llama.cpp's system-info line as {backend: {feature: value}}.

    The line lists each backend's features: ``CPU : SSE3 = 1 | AVX = 1 | ... | CUDA : ARCHS = 890 | ... |``.
    """
    features: dict[str, dict[str, str]] = {}
    backend = ""
    for item in filter(None, (part.strip() for part in text.split("|"))):
        if " : " in item:  # the first feature of a backend, after its name
            backend, item = (part.strip() for part in item.split(" : ", 1))
        name, _, value = item.partition("=")
        features.setdefault(backend, {})[name.strip()] = value.strip()
    return features


def kernel_compiler(library_dir: Path) -> str | None:
    """The compiler that built llama.cpp's CPU kernels (``libggml-cpu``), read from the library; None if not found."""
    for library in sorted(library_dir.glob("*ggml-cpu*")):
        found = COMPILER.search(library.read_bytes())
        if found:
            return f"GCC {found[1].decode()}" if found[1] else f"Clang {found[2].decode()}"
    return None


def fingerprint(llama_cpp: dict[str, dict[str, str]], compiler: str | None, llama_cpp_python: str) -> str:
    """One line that is equal on two machines whose llama.cpp should compute the same numbers."""
    backends = "; ".join(f"{backend}: " + " ".join(f"{name}={value}" for name, value in sorted(features.items()))
                         for backend, features in sorted(llama_cpp.items()))
    return f"llama-cpp-python {llama_cpp_python}; compiler {compiler or 'unknown'}; {backends}"


def system_info() -> dict:
    """This machine's record (a JSON object): what is known when llama-cpp-python cannot be imported, and why."""
    cpuinfo = CPUINFO.read_text() if CPUINFO.exists() else ""
    record = {"cpu": cpu_model(cpuinfo), "cpu_flags": kernel_flags(cpuinfo), "threads": os.cpu_count()}
    try:
        import llama_cpp
    except (ImportError, OSError, RuntimeError) as error:  # not installed, or its library does not load
        return {**record, "llama_cpp": None, "compiler": None, "llama_cpp_python": None, "fingerprint": None,
                "note": f"llama-cpp-python could not be imported ({error}): llama.cpp's build is unknown"}
    features = parse_system_info(llama_cpp.llama_print_system_info().decode())
    compiler = kernel_compiler(Path(llama_cpp.__file__).parent / "lib")
    return {**record, "llama_cpp": features, "compiler": compiler, "llama_cpp_python": llama_cpp.__version__,
            "fingerprint": fingerprint(features, compiler, llama_cpp.__version__), "note": NOTE}


def expected_identical(reference: dict | None, here: dict | None) -> bool:
    """Whether two records should give identical labels: both fingerprints known and equal."""
    theirs, ours = ((record or {}).get("fingerprint") for record in (reference, here))
    return theirs is not None and theirs == ours


def differences(reference: dict | None, here: dict | None) -> list[str]:
    """What differs between two records' llama.cpp builds, in words; empty where the fingerprints are equal."""
    if not (reference and reference.get("fingerprint")):
        return ["the reference does not record its llama.cpp build"]
    if not (here and here.get("fingerprint")):
        return ["llama.cpp's build is unknown here" + (f" ({here['note']})" if here else "")]
    said = [f"{what}: {reference[key] or 'unknown'} in the reference, {here[key] or 'unknown'} here"
            for key, what in (("llama_cpp_python", "llama-cpp-python"), ("compiler", "kernels compiled by"))
            if reference[key] != here[key]]
    theirs, ours = _flat(reference["llama_cpp"]), _flat(here["llama_cpp"])
    said += [f"{name}: {theirs.get(name, 'absent')} in the reference, {ours.get(name, 'absent')} here"
             for name in sorted(theirs.keys() | ours.keys()) if theirs.get(name) != ours.get(name)]
    return said


def _flat(features: dict[str, dict[str, str]]) -> dict[str, str]:
    return {f"{backend} {name}".strip(): value for backend, named in features.items() for name, value in named.items()}
