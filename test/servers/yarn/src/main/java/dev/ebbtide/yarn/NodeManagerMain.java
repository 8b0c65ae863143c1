package dev.ebbtide.yarn;

import java.io.File;
import java.io.InputStream;
import java.nio.file.Files;

import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.nodemanager.NodeManager;

/**
 * The harness's NodeManager, in a JVM of its own (YarnHarness starts it). It runs apart from the
 * ResourceManager so that both web servers work: Hadoop's web apps install Guice's filter by class
 * name, and a GuiceFilter made that way serves the routes of the last Guice injector created in
 * the JVM — with the NodeManager's web server in the RM's JVM, the RM's /ws/v1 and /app/v1 routes
 * answer 404, and without it nothing says a finished container's exit status (the RM forgets a
 * container when it ends; the NodeManager's /ws/v1/node/containers/ID keeps it, as on a real node).
 *
 * Its configuration is the RM's (the yarn-site.xml YarnHarness writes, first on the classpath)
 * plus what MiniYARNCluster sets for its own NodeManagers, and the container memory monitor as on a
 * real node without cgroups.
 *
 * Exits when its standard input closes (YarnHarness went away) or on SIGTERM; either way the
 * NodeManager is stopped, which kills its containers.
 */
public final class NodeManagerMain {
  public static void main(String[] argv) {
    try {
      run(argv);
    } catch (Throwable t) {
      t.printStackTrace();
      System.out.println("nm-failed " + t);
      System.out.flush();
      System.exit(1);
    }
  }

  private static void run(String[] argv) throws Exception {
    String dir = null;
    int memoryMb = 4096;
    int vcores = 8;
    for (int i = 0; i + 1 < argv.length; i += 2) {
      switch (argv[i]) {
        case "--dir": dir = argv[i + 1]; break;
        case "--nm-memory-mb": memoryMb = Integer.parseInt(argv[i + 1]); break;
        case "--nm-vcores": vcores = Integer.parseInt(argv[i + 1]); break;
        default: throw new IllegalArgumentException("unknown argument " + argv[i]);
      }
    }
    if (dir == null) throw new IllegalArgumentException("--dir is required");
    File local = new File(dir, "nm-local");
    File logs = new File(dir, "nm-logs");
    Files.createDirectories(local.toPath());
    Files.createDirectories(logs.toPath());

    YarnConfiguration conf = new YarnConfiguration();
    conf.set(YarnConfiguration.NM_LOCAL_DIRS, local.getAbsolutePath());
    conf.set(YarnConfiguration.NM_LOG_DIRS, logs.getAbsolutePath());
    conf.setInt(YarnConfiguration.NM_PMEM_MB, memoryMb);
    conf.setInt(YarnConfiguration.NM_VCORES, vcores);
    conf.setBoolean(YarnConfiguration.NM_ENABLE_HARDWARE_CAPABILITY_DETECTION, false);
    // Ephemeral ports on loopback; the RM learns them when the NodeManager registers.
    conf.set(YarnConfiguration.NM_ADDRESS, "127.0.0.1:0");
    conf.set(YarnConfiguration.NM_LOCALIZER_ADDRESS, "127.0.0.1:0");
    conf.set(YarnConfiguration.NM_WEBAPP_ADDRESS, "127.0.0.1:0");
    conf.set(YarnConfiguration.NM_COLLECTOR_SERVICE_ADDRESS, "127.0.0.1:0");

    // Memory enforcement as on a real node without cgroups: the containers monitor polls each
    // container's process tree every second (ProcfsBasedProcessTree, the Linux default) and
    // kills one over its physical memory with exit status -104 (KILLED_EXCEEDED_PMEM). Virtual
    // memory is not checked, as in Hadoop's tests.
    // yarn.nodemanager.resource.memory.enforced must be false: it defaults to true, and Hadoop
    // 3.4.2's ContainersMonitorImpl.checkLimit returns before any pmem/vmem check when it is true
    // and elastic memory control is off, leaving the kill to the cgroups OOM killer even when
    // cgroups memory control (resource.memory.enabled) is off, as here (YARN-11967, fixed after
    // 3.4.2). With it true, pmem-check-enabled does nothing.
    conf.setBoolean(YarnConfiguration.NM_CONTAINER_MONITOR_ENABLED, true);
    conf.setLong(YarnConfiguration.NM_CONTAINER_MON_INTERVAL_MS, 1000);
    conf.setBoolean(YarnConfiguration.NM_MEMORY_RESOURCE_ENABLED, false);
    conf.setBoolean(YarnConfiguration.NM_MEMORY_RESOURCE_ENFORCED, false);
    conf.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, true);
    conf.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);

    NodeManager nm = new NodeManager();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        nm.stop();
      } catch (Throwable t) {
        t.printStackTrace();
      }
    }, "nm-shutdown"));
    nm.init(conf);
    nm.start();
    System.out.println("nm-started");
    System.out.flush();

    // The parent holds our stdin open; EOF means it is gone (even if it was SIGKILLed).
    Thread watch = new Thread(() -> {
      try (InputStream in = System.in) {
        while (in.read() >= 0) {
          // nothing is sent; read until EOF
        }
      } catch (Throwable ignored) {
        // treated as EOF
      }
      System.exit(0);
    }, "nm-parent-watch");
    watch.setDaemon(true);
    watch.start();
    // A NodeManager told to shut down by the RM stops its services but not this JVM.
    nm.waitForServiceToStop(Long.MAX_VALUE);
    System.exit(nm.getFailureCause() == null ? 0 : 1);
  }
}
