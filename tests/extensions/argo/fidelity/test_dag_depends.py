"""Argo's own tests of DAG ``depends``, run in the emulator; each case names the Argo file and test."""

from __future__ import annotations

from .fidelity_support import node_phases, run_workflow

# test/e2e/functional/dag-depends.yaml (functional_test.go TestDAGDepends)
DAG_DEPENDS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: dag-depends-
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - name: P
            template: pass
          - name: F
            template: fail
          - name: should-execute-1
            depends: "P && (F.Succeeded || F.Failed)"
            template: pass
          - name: should-execute-2
            depends: "P || F"
            template: pass
          - name: should-not-execute
            depends: "P && F"
            template: pass
          - name: should-execute-3
            depends: "should-execute-2.Succeeded || should-not-execute"
            template: pass

    - name: pass
      container:
        image: argoproj/argosay:v2

    - name: fail
      container:
        image: argoproj/argosay:v2
        args: ["exit 1"]
"""


def test_functional_dag_depends(tmp_path):
    """functional_test.go TestDAGDepends + test/e2e/functional/dag-depends.yaml"""
    phases = node_phases(run_workflow(tmp_path, DAG_DEPENDS))
    assert phases["should-execute-1"] == "Succeeded"
    assert phases["should-execute-2"] == "Succeeded"
    assert phases["should-not-execute"] == "Omitted"
