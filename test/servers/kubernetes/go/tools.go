//go:build tools

// Package servers pins the control-plane programs this module builds (see ../build.sh); the
// tools build tag keeps it out of every real build, `go mod tidy` still records their deps.
package servers

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
