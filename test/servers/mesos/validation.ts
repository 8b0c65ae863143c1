import { type Framework, type Scalars, fits, hasCapability, scalarsOf } from './model.js';
import type { Call, TaskInfo } from './types.js';

/** Why a (non-SUBSCRIBE) call is malformed, as the master's 400 says it; undefined when it is fine. */
export function validateCall(call: Call): string | undefined {
  switch (call.type) {
    case 'ACCEPT':
      return call.accept ? undefined : "Expecting 'accept' to be present";
    case 'DECLINE':
      return call.decline ? undefined : "Expecting 'decline' to be present";
    case 'KILL':
      return call.kill?.task_id?.value ? undefined : "Expecting 'kill' with 'task_id' to be present";
    case 'ACKNOWLEDGE': {
      const a = call.acknowledge;
      if (!a?.task_id?.value || !a.agent_id?.value || !a.uuid) return "Expecting 'acknowledge' with 'agent_id', 'task_id' and 'uuid'";
      return Buffer.from(a.uuid, 'base64').length === 16 ? undefined : `Not a valid UUID: '${a.uuid}'`;
    }
    case 'SHUTDOWN':
      return call.shutdown?.executor_id?.value && call.shutdown.agent_id?.value ? undefined : "Expecting 'shutdown' with 'executor_id' and 'agent_id'";
    default:
      return undefined;
  }
}

/**
 * Why the master refuses to launch a task (TASK_ERROR, REASON_TASK_INVALID), checked in the
 * order Mesos' validation does; undefined when it may launch on `agentId` from `available`.
 */
export function validateTask(fw: Framework, info: TaskInfo, agentId: string, role: string, available: Scalars): string | undefined {
  const id = info.task_id?.value;
  if (!id) return "Task has no 'task_id'";
  if (typeof info.name !== 'string') return "Task has no 'name'";
  if (fw.tasks.has(id)) return `Task has duplicate ID: ${id}`;
  if (info.agent_id?.value !== agentId) return `Task uses agent ${info.agent_id?.value} which is not the agent ${agentId} of the offers`;
  if (!info.command === !info.executor) return 'Task should have at least one (but not both) of CommandInfo or ExecutorInfo present';
  if (info.command && info.command.shell !== false && !info.command.value) return "Task's 'command.value' is empty";
  if (hasCapability(fw.info, 'MULTI_ROLE')) {
    const wrong = (info.resources ?? []).find((r) => r.allocation_info?.role !== role);
    if (wrong) return `Task resource ${wrong.name} has allocation role '${wrong.allocation_info?.role ?? '(none)'}' but the offer was allocated to role '${role}'`;
  }
  const want = scalarsOf(info.resources);
  if (want.cpus <= 0 && want.mem <= 0) return 'Task uses no cpus and no mem';
  if (!fits(want, available)) {
    return `Task uses more resources cpus:${want.cpus}; mem:${want.mem}; disk:${want.disk} than available cpus:${available.cpus}; mem:${available.mem}; disk:${available.disk}`;
  }
  return undefined;
}
