#!/usr/bin/python3
# Admission plugins a cluster may turn on, as kube-apiserver --enable-admission-plugins does:
# OwnerReferencesPermissionEnforcement (OpenShift has it on). A blocking owner reference needs update on the
# owner's finalizers subresource; changing an object's owner references needs delete on the object; creating
# with a non-blocking reference needs neither. Without the plugin all of it is allowed.
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kstest import CRD, Cluster, Tap  # noqa: E402

SA = "system:serviceaccount:default:maker"
RBAC = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: maker}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: maker}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get, create, update, patch]}
- {apiGroups: [example.com], resources: [testclusters], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: maker}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: maker}
subjects: [{kind: ServiceAccount, name: maker, namespace: default}]
"""
FINALIZERS = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: finalizers}
rules:
- {apiGroups: [example.com], resources: [testclusters/finalizers], verbs: [update]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: finalizers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: finalizers}
subjects: [{kind: ServiceAccount, name: maker, namespace: default}]
"""


def owned(c, name, uid, block):
    ref = {"apiVersion": "example.com/v1", "kind": "TestCluster", "name": "owner", "uid": uid,
           "controller": True}
    if block:
        ref["blockOwnerDeletion"] = True
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": name, "ownerReferences": [ref]}, "data": {"k": "v"}})


def setup(c):
    c.kubectl("apply", "-f", c.manifest("crd.yaml", CRD))
    c.kubectl("wait", "--for", "condition=established", "crd/testclusters.example.com")
    c.kubectl("apply", "-f", c.manifest("rbac.yaml", RBAC))
    c.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "example.com/v1", "kind": "TestCluster",
                                                    "metadata": {"name": "owner"}, "spec": {"replicas": 1}}))
    rc, uid, err = c.kubectl("get", "testcluster", "owner", "-o", "jsonpath={.metadata.uid}")
    return uid


t = Tap()
c = Cluster(args=["--enable-admission-plugins", "OwnerReferencesPermissionEnforcement"])
uid = setup(c)
t.ok(uid, "an owner object")
rc, out, err = c.kubectl("create", "-f", "-", "--as=" + SA, stdin=owned(c, "blocking", uid, True))
t.ok(rc != 0 and 'configmaps "blocking" is forbidden: cannot set blockOwnerDeletion if an ownerReference refers '
     "to a resource you can't set finalizers on: , <nil>" in err,
     "a blocking owner reference without update on the owner's finalizers: Forbidden, the API server's words",
     out + err)
rc, out, err = c.kubectl("create", "-f", "-", "--as=" + SA, stdin=owned(c, "plain", uid, False))
t.ok(rc == 0, "a non-blocking owner reference on create needs no more", out + err)
rc, out, err = c.kubectl("patch", "configmap", "plain", "--as=" + SA, "--type=json", "-p",
                         '[{"op":"add","path":"/metadata/ownerReferences/0/blockOwnerDeletion","value":true}]')
t.ok(rc != 0 and "cannot set an ownerRef on a resource you can't delete" in err,
     "changing the owner references of an object one cannot delete: Forbidden", out + err)
rc, out, err = c.kubectl("patch", "configmap", "plain", "--as=" + SA, "-p", '{"data":{"k":"w"}}')
t.ok(rc == 0, "other changes of that object pass", out + err)
c.kubectl("apply", "-f", c.manifest("finalizers.yaml", FINALIZERS))
rc, out, err = c.kubectl("create", "-f", "-", "--as=" + SA, stdin=owned(c, "blocking", uid, True))
t.ok(rc == 0, "with update on testclusters/finalizers the blocking reference is accepted", out + err)
rc, out, err = c.kubectl("create", "-f", "-", stdin=owned(c, "by-admin", uid, True))
t.ok(rc == 0, "the cluster admin is not checked", out + err)
c.stop()

c = Cluster()
uid = setup(c)
rc, out, err = c.kubectl("create", "-f", "-", "--as=" + SA, stdin=owned(c, "blocking", uid, True))
t.ok(rc == 0, "without the plugin a blocking owner reference needs nothing more", out + err)
rc, out, err = c.kubectl("get", "configmap", "blocking", "-o", "jsonpath={.metadata.ownerReferences[0].blockOwnerDeletion}")
t.ok(out == "true", "and is kept", out + err)
t.done()
