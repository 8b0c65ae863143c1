//go:build tools

package tools

import _ "github.com/mesos/mesos-go/api/v1/cmd/example-scheduler"
