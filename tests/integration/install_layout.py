#!/usr/bin/env python3
# install_layout.py: an installed cleanops (PREFIX/bin, PREFIX/share/cleanops) deploys from any
# directory: it finds its policies and the Lambda zips that `make install` puts beside them.
"""Lays out PREFIX as `make install` does (the paths are read from `make -n install`), runs
the installed binary from an empty working directory against a private sandbox: deploy finds
the zips and policies, status is healthy with the functions' code current, destroy leaves
nothing. Without the zips, deploy fails and says how to give them.
Exit 0 pass, 77 skip, 1 fail."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import sbxtest as sb  # noqa: E402
from sbxtest import BUILD, CLEANOPS, ROOT, ZIPS, check, free_port  # noqa: E402


def install_dirs():
    """The directories `make install` writes the zips and policies to, for PREFIX=/P."""
    p = subprocess.run(["make", "-n", "--no-print-directory", "install", "BUILD=" + BUILD,
                        "PREFIX=/P", "DESTDIR="], cwd=ROOT, capture_output=True, text=True)
    check(p.returncode == 0, "make -n install: %s" % p.stderr[-500:])
    text = p.stdout.replace("\\\n", " ")  # recipe lines continued with a backslash
    lines = [ln for ln in text.splitlines() if ln.startswith("install ")]
    zips = [ln for ln in lines if "POC-Lambda-1.zip" in ln]
    pols = [ln for ln in lines if "policies/*.json" in ln]
    check(len(zips) == 1 and len(pols) == 1, "make install installs the zips and the policies: %s" % lines)
    return zips[0].split()[-1].rstrip("/"), pols[0].split()[-1].rstrip("/")


def main():
    sb.need_binaries()
    if not os.path.isfile(os.path.join(ZIPS, "bin", "order-writer")):
        sb.skip("the Lambda binaries are not built (%s/bin)" % ZIPS)
    zip_dir, pol_dir = install_dirs()
    check(zip_dir == "/P/share/cleanops/lambda" and pol_dir == "/P/share/cleanops/policies",
          "install paths: %s %s" % (zip_dir, pol_dir))

    tmp = tempfile.mkdtemp(prefix="install_layout.")
    data = os.path.join(tmp, "sandbox")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    prefix = os.path.join(tmp, "prefix")
    exe = os.path.join(prefix, "bin", "cleanops")
    os.makedirs(os.path.dirname(exe))
    shutil.copy2(CLEANOPS, exe)
    shutil.copytree(os.path.join(ROOT, "policies"), prefix + pol_dir[2:])
    subprocess.run([CLEANOPS, "package", "--bin", os.path.join(ZIPS, "bin"),
                    "--out", prefix + zip_dir[2:]], check=True, capture_output=True)
    shutil.rmtree(prefix + zip_dir[2:] + "/bin", ignore_errors=True)  # make install copies zips only
    work = os.path.join(tmp, "elsewhere")
    os.mkdir(work)
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDINSTALLTEST", AWS_SECRET_ACCESS_KEY="secret",
               AWS_REGION="us-east-1", XDG_STATE_HOME=os.path.join(tmp, "state"), HOME=tmp)
    for k in ("AWS_PROFILE", "CLEANOPS_ZIPS", "CLEANOPS_POLICIES", "AWS_ENDPOINT_URL"):
        env.pop(k, None)

    def run(binary, *args):
        return subprocess.run([binary, *args, "--endpoint", url], env=env, cwd=work,
                              capture_output=True, text=True, timeout=300)

    try:
        subprocess.run([CLEANOPS, "sandbox", "start", "--port", str(port), "--data", data],
                       check=True, timeout=30, env=env, capture_output=True)
        p = run(exe, "deploy", "--yes", "--json")
        check(p.returncode == 0, "the installed binary deploys from elsewhere:\n%s\n%s"
              % (p.stdout[-2000:], p.stderr[-2000:]))
        p = run(exe, "status", "--json")
        st = json.loads(p.stdout or "{}")
        fns = [r for r in st.get("resources", []) if r["kind"] == "lambda function"]
        check(p.returncode == 0 and st.get("healthy") is True and len(fns) == 2
              and all(r["state"] == "present" for r in fns),
              "status is healthy, the functions' code current: %s" % fns)
        p = run(exe, "destroy", "--yes")
        check(p.returncode == 0, "destroy: %s" % p.stderr[-1000:])

        # without the zips: a clear failure that says how to give them
        shutil.rmtree(prefix + zip_dir[2:])
        p = run(exe, "deploy", "--yes")
        check(p.returncode != 0 and "--zips" in (p.stdout + p.stderr),
              "without zips deploy fails and names --zips: %s" % (p.stdout + p.stderr)[-600:])
    finally:
        sb.stop(data)
        shutil.rmtree(tmp, ignore_errors=True)
    print("all checks passed (%d)" % sb.CHECKS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
