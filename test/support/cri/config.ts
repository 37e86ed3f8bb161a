// The private containerd's config with the CRI plugin (../shared/docs/cri.md): its own root,
// state and sockets under the harness dir; runtimes `runc` (default, its own runc root) and
// `vessel` (io.containerd.vessel.v2, the launcher in DIR/bin on containerd's PATH);
// restrict_oom_score_adj (runc's sandboxes fail here without it); CNI from /usr/lib/cni with a
// private conf dir; the streaming server on 127.0.0.1, port 0; optional registry mirrors.

export interface CriConfigOptions {
  dir: string;
  sandboxImage: string;
  cniConfDir: string;
  /** Registry host (e.g. `docker.io`) → mirror endpoint URL (e.g. `http://127.0.0.1:5000`). */
  mirrors?: Record<string, string>;
  /** Pod annotation keys (globs) the CRI passes to the vessel runtime's OCI specs (`pod_annotations`). */
  vesselPodAnnotations?: string[];
  /** The vessel runtime's options: ConfigPath, a JSON file sizing pod VMs (src/shim/runtime-options.ts). */
  vesselConfigPath?: string;
}

export function criConfig(o: CriConfigOptions): string {
  const cri = '[plugins."io.containerd.grpc.v1.cri"';
  const mirrors = Object.entries(o.mirrors ?? {})
    .map(([host, url]) => `${cri}.registry.mirrors."${host}"]\n  endpoint = ["${url}"]\n`)
    .join('');
  return `version = 2
root = "${o.dir}/root"
state = "${o.dir}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "${o.dir}/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "${o.dir}/opt"
${cri}]
  sandbox_image = "${o.sandboxImage}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_tls_streaming = false
${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
${cri}.containerd.runtimes.runc.options]
  Root = "${o.dir}/runc"
${cri}.containerd.runtimes.vessel]
  runtime_type = "io.containerd.vessel.v2"
  pod_annotations = ${JSON.stringify(o.vesselPodAnnotations ?? [])}
${o.vesselConfigPath ? `${cri}.containerd.runtimes.vessel.options]\n  ConfigPath = ${JSON.stringify(o.vesselConfigPath)}\n` : ''}${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${o.cniConfDir}"
  max_conf_num = 1
${mirrors}`;
}

export interface CniOptions {
  /** The network's name (unique per harness: CNI's iptables comments and cache files carry it). */
  name: string;
  bridge: string;
  subnet: string;
  /** host-local's private data dir. */
  dataDir: string;
}

/** One conflist: bridge (gateway, hairpin, masquerade) + host-local + portmap. */
export function cniConflist(o: CniOptions): string {
  return `${JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: o.name,
      plugins: [
        {
          type: 'bridge',
          bridge: o.bridge,
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: o.subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: o.dataDir },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}
