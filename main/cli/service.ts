// Opens the service for one CLI command: in-process engine, the data dir's database and keys.
import { BranchLensService, type ServiceOptions } from '../core/service.js';

export function openService(opts: ServiceOptions): Promise<BranchLensService> {
  return BranchLensService.open({ workers: 0, ...opts });
}
