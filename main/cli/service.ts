// Opens the service for one CLI command: in-process engine, the data dir's database and keys. A command is not a
// session: it leaves no monitoring snapshot when it closes (serve, which runs until stopped, opens its own).
import { BranchLensService, type ServiceOptions } from '../core/service.js';

export function openService(opts: ServiceOptions): Promise<BranchLensService> {
  return BranchLensService.open({
    workers: 0,
    ...opts,
    monitor: { snapshotOnClose: false, ...opts.monitor },
  });
}
