// What every Backend that speaks ACP through an AcpClient does with the five operations: hand them to the
// client. The acp backend and the sandbox differ only in the transport they build.
import type { CancelInput, CompleteInput, CreateInput, UpdateInput } from '../../commerce/inputs.js';
import type { BackendResult, CallContext } from '../backend.js';
import type { AcpClient } from './acp-client.js';

export abstract class AcpClientBackend {
  protected abstract readonly client: AcpClient;

  create(input: CreateInput, ctx: CallContext): Promise<BackendResult> {
    return this.client.create(input, ctx);
  }

  update(id: string, input: UpdateInput, ctx: CallContext): Promise<BackendResult> {
    return this.client.update(id, input, ctx);
  }

  complete(id: string, input: CompleteInput, ctx: CallContext): Promise<BackendResult> {
    return this.client.complete(id, input, ctx);
  }

  cancel(id: string, input: CancelInput, ctx: CallContext): Promise<BackendResult> {
    return this.client.cancel(id, input, ctx);
  }

  get(id: string): Promise<BackendResult> {
    return this.client.get(id);
  }
}
