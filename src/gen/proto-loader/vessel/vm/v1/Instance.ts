// Original file: proto/vessel/vm/v1/vm.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddDiskRequest as _vessel_vm_v1_AddDiskRequest, AddDiskRequest__Output as _vessel_vm_v1_AddDiskRequest__Output } from '../../../vessel/vm/v1/AddDiskRequest.js';
import type { AddDiskResponse as _vessel_vm_v1_AddDiskResponse, AddDiskResponse__Output as _vessel_vm_v1_AddDiskResponse__Output } from '../../../vessel/vm/v1/AddDiskResponse.js';
import type { AddFSRequest as _vessel_vm_v1_AddFSRequest, AddFSRequest__Output as _vessel_vm_v1_AddFSRequest__Output } from '../../../vessel/vm/v1/AddFSRequest.js';
import type { AddFSResponse as _vessel_vm_v1_AddFSResponse, AddFSResponse__Output as _vessel_vm_v1_AddFSResponse__Output } from '../../../vessel/vm/v1/AddFSResponse.js';
import type { AddNICRequest as _vessel_vm_v1_AddNICRequest, AddNICRequest__Output as _vessel_vm_v1_AddNICRequest__Output } from '../../../vessel/vm/v1/AddNICRequest.js';
import type { AddNICResponse as _vessel_vm_v1_AddNICResponse, AddNICResponse__Output as _vessel_vm_v1_AddNICResponse__Output } from '../../../vessel/vm/v1/AddNICResponse.js';
import type { ConsoleChunk as _vessel_vm_v1_ConsoleChunk, ConsoleChunk__Output as _vessel_vm_v1_ConsoleChunk__Output } from '../../../vessel/vm/v1/ConsoleChunk.js';
import type { ConsoleRequest as _vessel_vm_v1_ConsoleRequest, ConsoleRequest__Output as _vessel_vm_v1_ConsoleRequest__Output } from '../../../vessel/vm/v1/ConsoleRequest.js';
import type { ExecRequest as _vessel_vm_v1_ExecRequest, ExecRequest__Output as _vessel_vm_v1_ExecRequest__Output } from '../../../vessel/vm/v1/ExecRequest.js';
import type { ExecResponse as _vessel_vm_v1_ExecResponse, ExecResponse__Output as _vessel_vm_v1_ExecResponse__Output } from '../../../vessel/vm/v1/ExecResponse.js';
import type { InstanceEvent as _vessel_vm_v1_InstanceEvent, InstanceEvent__Output as _vessel_vm_v1_InstanceEvent__Output } from '../../../vessel/vm/v1/InstanceEvent.js';
import type { SetCPUAndMemoryRequest as _vessel_vm_v1_SetCPUAndMemoryRequest, SetCPUAndMemoryRequest__Output as _vessel_vm_v1_SetCPUAndMemoryRequest__Output } from '../../../vessel/vm/v1/SetCPUAndMemoryRequest.js';
import type { SetCPUAndMemoryResponse as _vessel_vm_v1_SetCPUAndMemoryResponse, SetCPUAndMemoryResponse__Output as _vessel_vm_v1_SetCPUAndMemoryResponse__Output } from '../../../vessel/vm/v1/SetCPUAndMemoryResponse.js';
import type { ShutdownRequest as _vessel_vm_v1_ShutdownRequest, ShutdownRequest__Output as _vessel_vm_v1_ShutdownRequest__Output } from '../../../vessel/vm/v1/ShutdownRequest.js';
import type { ShutdownResponse as _vessel_vm_v1_ShutdownResponse, ShutdownResponse__Output as _vessel_vm_v1_ShutdownResponse__Output } from '../../../vessel/vm/v1/ShutdownResponse.js';
import type { StartRequest as _vessel_vm_v1_StartRequest, StartRequest__Output as _vessel_vm_v1_StartRequest__Output } from '../../../vessel/vm/v1/StartRequest.js';
import type { StartResponse as _vessel_vm_v1_StartResponse, StartResponse__Output as _vessel_vm_v1_StartResponse__Output } from '../../../vessel/vm/v1/StartResponse.js';
import type { StreamRequest as _vessel_vm_v1_StreamRequest, StreamRequest__Output as _vessel_vm_v1_StreamRequest__Output } from '../../../vessel/vm/v1/StreamRequest.js';
import type { StreamResponse as _vessel_vm_v1_StreamResponse, StreamResponse__Output as _vessel_vm_v1_StreamResponse__Output } from '../../../vessel/vm/v1/StreamResponse.js';
import type { WatchRequest as _vessel_vm_v1_WatchRequest, WatchRequest__Output as _vessel_vm_v1_WatchRequest__Output } from '../../../vessel/vm/v1/WatchRequest.js';

export interface InstanceClient extends grpc.Client {
  AddDisk(argument: _vessel_vm_v1_AddDiskRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_AddDiskResponse__Output>): grpc.ClientUnaryCall;
  AddDisk(argument: _vessel_vm_v1_AddDiskRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_AddDiskResponse__Output>): grpc.ClientUnaryCall;
  AddDisk(argument: _vessel_vm_v1_AddDiskRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_AddDiskResponse__Output>): grpc.ClientUnaryCall;
  AddDisk(argument: _vessel_vm_v1_AddDiskRequest, callback: grpc.requestCallback<_vessel_vm_v1_AddDiskResponse__Output>): grpc.ClientUnaryCall;
  addDisk(argument: _vessel_vm_v1_AddDiskRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_AddDiskResponse__Output>): grpc.ClientUnaryCall;
  addDisk(argument: _vessel_vm_v1_AddDiskRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_AddDiskResponse__Output>): grpc.ClientUnaryCall;
  addDisk(argument: _vessel_vm_v1_AddDiskRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_AddDiskResponse__Output>): grpc.ClientUnaryCall;
  addDisk(argument: _vessel_vm_v1_AddDiskRequest, callback: grpc.requestCallback<_vessel_vm_v1_AddDiskResponse__Output>): grpc.ClientUnaryCall;
  
  AddFS(argument: _vessel_vm_v1_AddFSRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_AddFSResponse__Output>): grpc.ClientUnaryCall;
  AddFS(argument: _vessel_vm_v1_AddFSRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_AddFSResponse__Output>): grpc.ClientUnaryCall;
  AddFS(argument: _vessel_vm_v1_AddFSRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_AddFSResponse__Output>): grpc.ClientUnaryCall;
  AddFS(argument: _vessel_vm_v1_AddFSRequest, callback: grpc.requestCallback<_vessel_vm_v1_AddFSResponse__Output>): grpc.ClientUnaryCall;
  addFs(argument: _vessel_vm_v1_AddFSRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_AddFSResponse__Output>): grpc.ClientUnaryCall;
  addFs(argument: _vessel_vm_v1_AddFSRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_AddFSResponse__Output>): grpc.ClientUnaryCall;
  addFs(argument: _vessel_vm_v1_AddFSRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_AddFSResponse__Output>): grpc.ClientUnaryCall;
  addFs(argument: _vessel_vm_v1_AddFSRequest, callback: grpc.requestCallback<_vessel_vm_v1_AddFSResponse__Output>): grpc.ClientUnaryCall;
  
  AddNIC(argument: _vessel_vm_v1_AddNICRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_AddNICResponse__Output>): grpc.ClientUnaryCall;
  AddNIC(argument: _vessel_vm_v1_AddNICRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_AddNICResponse__Output>): grpc.ClientUnaryCall;
  AddNIC(argument: _vessel_vm_v1_AddNICRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_AddNICResponse__Output>): grpc.ClientUnaryCall;
  AddNIC(argument: _vessel_vm_v1_AddNICRequest, callback: grpc.requestCallback<_vessel_vm_v1_AddNICResponse__Output>): grpc.ClientUnaryCall;
  addNic(argument: _vessel_vm_v1_AddNICRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_AddNICResponse__Output>): grpc.ClientUnaryCall;
  addNic(argument: _vessel_vm_v1_AddNICRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_AddNICResponse__Output>): grpc.ClientUnaryCall;
  addNic(argument: _vessel_vm_v1_AddNICRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_AddNICResponse__Output>): grpc.ClientUnaryCall;
  addNic(argument: _vessel_vm_v1_AddNICRequest, callback: grpc.requestCallback<_vessel_vm_v1_AddNICResponse__Output>): grpc.ClientUnaryCall;
  
  Console(argument: _vessel_vm_v1_ConsoleRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_vessel_vm_v1_ConsoleChunk__Output>;
  Console(argument: _vessel_vm_v1_ConsoleRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_vessel_vm_v1_ConsoleChunk__Output>;
  console(argument: _vessel_vm_v1_ConsoleRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_vessel_vm_v1_ConsoleChunk__Output>;
  console(argument: _vessel_vm_v1_ConsoleRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_vessel_vm_v1_ConsoleChunk__Output>;
  
  Exec(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_vessel_vm_v1_ExecRequest, _vessel_vm_v1_ExecResponse__Output>;
  Exec(options?: grpc.CallOptions): grpc.ClientDuplexStream<_vessel_vm_v1_ExecRequest, _vessel_vm_v1_ExecResponse__Output>;
  exec(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_vessel_vm_v1_ExecRequest, _vessel_vm_v1_ExecResponse__Output>;
  exec(options?: grpc.CallOptions): grpc.ClientDuplexStream<_vessel_vm_v1_ExecRequest, _vessel_vm_v1_ExecResponse__Output>;
  
  SetCPUAndMemory(argument: _vessel_vm_v1_SetCPUAndMemoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_SetCPUAndMemoryResponse__Output>): grpc.ClientUnaryCall;
  SetCPUAndMemory(argument: _vessel_vm_v1_SetCPUAndMemoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_SetCPUAndMemoryResponse__Output>): grpc.ClientUnaryCall;
  SetCPUAndMemory(argument: _vessel_vm_v1_SetCPUAndMemoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_SetCPUAndMemoryResponse__Output>): grpc.ClientUnaryCall;
  SetCPUAndMemory(argument: _vessel_vm_v1_SetCPUAndMemoryRequest, callback: grpc.requestCallback<_vessel_vm_v1_SetCPUAndMemoryResponse__Output>): grpc.ClientUnaryCall;
  setCpuAndMemory(argument: _vessel_vm_v1_SetCPUAndMemoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_SetCPUAndMemoryResponse__Output>): grpc.ClientUnaryCall;
  setCpuAndMemory(argument: _vessel_vm_v1_SetCPUAndMemoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_SetCPUAndMemoryResponse__Output>): grpc.ClientUnaryCall;
  setCpuAndMemory(argument: _vessel_vm_v1_SetCPUAndMemoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_SetCPUAndMemoryResponse__Output>): grpc.ClientUnaryCall;
  setCpuAndMemory(argument: _vessel_vm_v1_SetCPUAndMemoryRequest, callback: grpc.requestCallback<_vessel_vm_v1_SetCPUAndMemoryResponse__Output>): grpc.ClientUnaryCall;
  
  Shutdown(argument: _vessel_vm_v1_ShutdownRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_ShutdownResponse__Output>): grpc.ClientUnaryCall;
  Shutdown(argument: _vessel_vm_v1_ShutdownRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_ShutdownResponse__Output>): grpc.ClientUnaryCall;
  Shutdown(argument: _vessel_vm_v1_ShutdownRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_ShutdownResponse__Output>): grpc.ClientUnaryCall;
  Shutdown(argument: _vessel_vm_v1_ShutdownRequest, callback: grpc.requestCallback<_vessel_vm_v1_ShutdownResponse__Output>): grpc.ClientUnaryCall;
  shutdown(argument: _vessel_vm_v1_ShutdownRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_ShutdownResponse__Output>): grpc.ClientUnaryCall;
  shutdown(argument: _vessel_vm_v1_ShutdownRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_ShutdownResponse__Output>): grpc.ClientUnaryCall;
  shutdown(argument: _vessel_vm_v1_ShutdownRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_ShutdownResponse__Output>): grpc.ClientUnaryCall;
  shutdown(argument: _vessel_vm_v1_ShutdownRequest, callback: grpc.requestCallback<_vessel_vm_v1_ShutdownResponse__Output>): grpc.ClientUnaryCall;
  
  Start(argument: _vessel_vm_v1_StartRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_StartResponse__Output>): grpc.ClientUnaryCall;
  Start(argument: _vessel_vm_v1_StartRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_StartResponse__Output>): grpc.ClientUnaryCall;
  Start(argument: _vessel_vm_v1_StartRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_StartResponse__Output>): grpc.ClientUnaryCall;
  Start(argument: _vessel_vm_v1_StartRequest, callback: grpc.requestCallback<_vessel_vm_v1_StartResponse__Output>): grpc.ClientUnaryCall;
  start(argument: _vessel_vm_v1_StartRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_StartResponse__Output>): grpc.ClientUnaryCall;
  start(argument: _vessel_vm_v1_StartRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_StartResponse__Output>): grpc.ClientUnaryCall;
  start(argument: _vessel_vm_v1_StartRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_StartResponse__Output>): grpc.ClientUnaryCall;
  start(argument: _vessel_vm_v1_StartRequest, callback: grpc.requestCallback<_vessel_vm_v1_StartResponse__Output>): grpc.ClientUnaryCall;
  
  StartStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_vessel_vm_v1_StreamRequest, _vessel_vm_v1_StreamResponse__Output>;
  StartStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_vessel_vm_v1_StreamRequest, _vessel_vm_v1_StreamResponse__Output>;
  startStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_vessel_vm_v1_StreamRequest, _vessel_vm_v1_StreamResponse__Output>;
  startStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_vessel_vm_v1_StreamRequest, _vessel_vm_v1_StreamResponse__Output>;
  
  Watch(argument: _vessel_vm_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_vessel_vm_v1_InstanceEvent__Output>;
  Watch(argument: _vessel_vm_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_vessel_vm_v1_InstanceEvent__Output>;
  watch(argument: _vessel_vm_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_vessel_vm_v1_InstanceEvent__Output>;
  watch(argument: _vessel_vm_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_vessel_vm_v1_InstanceEvent__Output>;
  
}

export interface InstanceHandlers extends grpc.UntypedServiceImplementation {
  AddDisk: grpc.handleUnaryCall<_vessel_vm_v1_AddDiskRequest__Output, _vessel_vm_v1_AddDiskResponse>;
  
  AddFS: grpc.handleUnaryCall<_vessel_vm_v1_AddFSRequest__Output, _vessel_vm_v1_AddFSResponse>;
  
  AddNIC: grpc.handleUnaryCall<_vessel_vm_v1_AddNICRequest__Output, _vessel_vm_v1_AddNICResponse>;
  
  Console: grpc.handleServerStreamingCall<_vessel_vm_v1_ConsoleRequest__Output, _vessel_vm_v1_ConsoleChunk>;
  
  Exec: grpc.handleBidiStreamingCall<_vessel_vm_v1_ExecRequest__Output, _vessel_vm_v1_ExecResponse>;
  
  SetCPUAndMemory: grpc.handleUnaryCall<_vessel_vm_v1_SetCPUAndMemoryRequest__Output, _vessel_vm_v1_SetCPUAndMemoryResponse>;
  
  Shutdown: grpc.handleUnaryCall<_vessel_vm_v1_ShutdownRequest__Output, _vessel_vm_v1_ShutdownResponse>;
  
  Start: grpc.handleUnaryCall<_vessel_vm_v1_StartRequest__Output, _vessel_vm_v1_StartResponse>;
  
  StartStream: grpc.handleBidiStreamingCall<_vessel_vm_v1_StreamRequest__Output, _vessel_vm_v1_StreamResponse>;
  
  Watch: grpc.handleServerStreamingCall<_vessel_vm_v1_WatchRequest__Output, _vessel_vm_v1_InstanceEvent>;
  
}

export interface InstanceDefinition extends grpc.ServiceDefinition {
  AddDisk: MethodDefinition<_vessel_vm_v1_AddDiskRequest, _vessel_vm_v1_AddDiskResponse, _vessel_vm_v1_AddDiskRequest__Output, _vessel_vm_v1_AddDiskResponse__Output>
  AddFS: MethodDefinition<_vessel_vm_v1_AddFSRequest, _vessel_vm_v1_AddFSResponse, _vessel_vm_v1_AddFSRequest__Output, _vessel_vm_v1_AddFSResponse__Output>
  AddNIC: MethodDefinition<_vessel_vm_v1_AddNICRequest, _vessel_vm_v1_AddNICResponse, _vessel_vm_v1_AddNICRequest__Output, _vessel_vm_v1_AddNICResponse__Output>
  Console: MethodDefinition<_vessel_vm_v1_ConsoleRequest, _vessel_vm_v1_ConsoleChunk, _vessel_vm_v1_ConsoleRequest__Output, _vessel_vm_v1_ConsoleChunk__Output>
  Exec: MethodDefinition<_vessel_vm_v1_ExecRequest, _vessel_vm_v1_ExecResponse, _vessel_vm_v1_ExecRequest__Output, _vessel_vm_v1_ExecResponse__Output>
  SetCPUAndMemory: MethodDefinition<_vessel_vm_v1_SetCPUAndMemoryRequest, _vessel_vm_v1_SetCPUAndMemoryResponse, _vessel_vm_v1_SetCPUAndMemoryRequest__Output, _vessel_vm_v1_SetCPUAndMemoryResponse__Output>
  Shutdown: MethodDefinition<_vessel_vm_v1_ShutdownRequest, _vessel_vm_v1_ShutdownResponse, _vessel_vm_v1_ShutdownRequest__Output, _vessel_vm_v1_ShutdownResponse__Output>
  Start: MethodDefinition<_vessel_vm_v1_StartRequest, _vessel_vm_v1_StartResponse, _vessel_vm_v1_StartRequest__Output, _vessel_vm_v1_StartResponse__Output>
  StartStream: MethodDefinition<_vessel_vm_v1_StreamRequest, _vessel_vm_v1_StreamResponse, _vessel_vm_v1_StreamRequest__Output, _vessel_vm_v1_StreamResponse__Output>
  Watch: MethodDefinition<_vessel_vm_v1_WatchRequest, _vessel_vm_v1_InstanceEvent, _vessel_vm_v1_WatchRequest__Output, _vessel_vm_v1_InstanceEvent__Output>
}
