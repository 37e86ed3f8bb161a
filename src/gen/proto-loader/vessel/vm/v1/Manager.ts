// Original file: proto/vessel/vm/v1/vm.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateInstanceRequest as _vessel_vm_v1_CreateInstanceRequest, CreateInstanceRequest__Output as _vessel_vm_v1_CreateInstanceRequest__Output } from '../../../vessel/vm/v1/CreateInstanceRequest.js';
import type { DeleteInstanceRequest as _vessel_vm_v1_DeleteInstanceRequest, DeleteInstanceRequest__Output as _vessel_vm_v1_DeleteInstanceRequest__Output } from '../../../vessel/vm/v1/DeleteInstanceRequest.js';
import type { DeleteInstanceResponse as _vessel_vm_v1_DeleteInstanceResponse, DeleteInstanceResponse__Output as _vessel_vm_v1_DeleteInstanceResponse__Output } from '../../../vessel/vm/v1/DeleteInstanceResponse.js';
import type { GetInstanceRequest as _vessel_vm_v1_GetInstanceRequest, GetInstanceRequest__Output as _vessel_vm_v1_GetInstanceRequest__Output } from '../../../vessel/vm/v1/GetInstanceRequest.js';
import type { InstanceInfo as _vessel_vm_v1_InstanceInfo, InstanceInfo__Output as _vessel_vm_v1_InstanceInfo__Output } from '../../../vessel/vm/v1/InstanceInfo.js';
import type { ListInstancesRequest as _vessel_vm_v1_ListInstancesRequest, ListInstancesRequest__Output as _vessel_vm_v1_ListInstancesRequest__Output } from '../../../vessel/vm/v1/ListInstancesRequest.js';
import type { ListInstancesResponse as _vessel_vm_v1_ListInstancesResponse, ListInstancesResponse__Output as _vessel_vm_v1_ListInstancesResponse__Output } from '../../../vessel/vm/v1/ListInstancesResponse.js';

export interface ManagerClient extends grpc.Client {
  CreateInstance(argument: _vessel_vm_v1_CreateInstanceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  CreateInstance(argument: _vessel_vm_v1_CreateInstanceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  CreateInstance(argument: _vessel_vm_v1_CreateInstanceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  CreateInstance(argument: _vessel_vm_v1_CreateInstanceRequest, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  createInstance(argument: _vessel_vm_v1_CreateInstanceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  createInstance(argument: _vessel_vm_v1_CreateInstanceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  createInstance(argument: _vessel_vm_v1_CreateInstanceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  createInstance(argument: _vessel_vm_v1_CreateInstanceRequest, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  
  DeleteInstance(argument: _vessel_vm_v1_DeleteInstanceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_DeleteInstanceResponse__Output>): grpc.ClientUnaryCall;
  DeleteInstance(argument: _vessel_vm_v1_DeleteInstanceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_DeleteInstanceResponse__Output>): grpc.ClientUnaryCall;
  DeleteInstance(argument: _vessel_vm_v1_DeleteInstanceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_DeleteInstanceResponse__Output>): grpc.ClientUnaryCall;
  DeleteInstance(argument: _vessel_vm_v1_DeleteInstanceRequest, callback: grpc.requestCallback<_vessel_vm_v1_DeleteInstanceResponse__Output>): grpc.ClientUnaryCall;
  deleteInstance(argument: _vessel_vm_v1_DeleteInstanceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_DeleteInstanceResponse__Output>): grpc.ClientUnaryCall;
  deleteInstance(argument: _vessel_vm_v1_DeleteInstanceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_DeleteInstanceResponse__Output>): grpc.ClientUnaryCall;
  deleteInstance(argument: _vessel_vm_v1_DeleteInstanceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_DeleteInstanceResponse__Output>): grpc.ClientUnaryCall;
  deleteInstance(argument: _vessel_vm_v1_DeleteInstanceRequest, callback: grpc.requestCallback<_vessel_vm_v1_DeleteInstanceResponse__Output>): grpc.ClientUnaryCall;
  
  GetInstance(argument: _vessel_vm_v1_GetInstanceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  GetInstance(argument: _vessel_vm_v1_GetInstanceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  GetInstance(argument: _vessel_vm_v1_GetInstanceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  GetInstance(argument: _vessel_vm_v1_GetInstanceRequest, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  getInstance(argument: _vessel_vm_v1_GetInstanceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  getInstance(argument: _vessel_vm_v1_GetInstanceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  getInstance(argument: _vessel_vm_v1_GetInstanceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  getInstance(argument: _vessel_vm_v1_GetInstanceRequest, callback: grpc.requestCallback<_vessel_vm_v1_InstanceInfo__Output>): grpc.ClientUnaryCall;
  
  ListInstances(argument: _vessel_vm_v1_ListInstancesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_ListInstancesResponse__Output>): grpc.ClientUnaryCall;
  ListInstances(argument: _vessel_vm_v1_ListInstancesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_ListInstancesResponse__Output>): grpc.ClientUnaryCall;
  ListInstances(argument: _vessel_vm_v1_ListInstancesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_ListInstancesResponse__Output>): grpc.ClientUnaryCall;
  ListInstances(argument: _vessel_vm_v1_ListInstancesRequest, callback: grpc.requestCallback<_vessel_vm_v1_ListInstancesResponse__Output>): grpc.ClientUnaryCall;
  listInstances(argument: _vessel_vm_v1_ListInstancesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_ListInstancesResponse__Output>): grpc.ClientUnaryCall;
  listInstances(argument: _vessel_vm_v1_ListInstancesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vessel_vm_v1_ListInstancesResponse__Output>): grpc.ClientUnaryCall;
  listInstances(argument: _vessel_vm_v1_ListInstancesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vessel_vm_v1_ListInstancesResponse__Output>): grpc.ClientUnaryCall;
  listInstances(argument: _vessel_vm_v1_ListInstancesRequest, callback: grpc.requestCallback<_vessel_vm_v1_ListInstancesResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ManagerHandlers extends grpc.UntypedServiceImplementation {
  CreateInstance: grpc.handleUnaryCall<_vessel_vm_v1_CreateInstanceRequest__Output, _vessel_vm_v1_InstanceInfo>;
  
  DeleteInstance: grpc.handleUnaryCall<_vessel_vm_v1_DeleteInstanceRequest__Output, _vessel_vm_v1_DeleteInstanceResponse>;
  
  GetInstance: grpc.handleUnaryCall<_vessel_vm_v1_GetInstanceRequest__Output, _vessel_vm_v1_InstanceInfo>;
  
  ListInstances: grpc.handleUnaryCall<_vessel_vm_v1_ListInstancesRequest__Output, _vessel_vm_v1_ListInstancesResponse>;
  
}

export interface ManagerDefinition extends grpc.ServiceDefinition {
  CreateInstance: MethodDefinition<_vessel_vm_v1_CreateInstanceRequest, _vessel_vm_v1_InstanceInfo, _vessel_vm_v1_CreateInstanceRequest__Output, _vessel_vm_v1_InstanceInfo__Output>
  DeleteInstance: MethodDefinition<_vessel_vm_v1_DeleteInstanceRequest, _vessel_vm_v1_DeleteInstanceResponse, _vessel_vm_v1_DeleteInstanceRequest__Output, _vessel_vm_v1_DeleteInstanceResponse__Output>
  GetInstance: MethodDefinition<_vessel_vm_v1_GetInstanceRequest, _vessel_vm_v1_InstanceInfo, _vessel_vm_v1_GetInstanceRequest__Output, _vessel_vm_v1_InstanceInfo__Output>
  ListInstances: MethodDefinition<_vessel_vm_v1_ListInstancesRequest, _vessel_vm_v1_ListInstancesResponse, _vessel_vm_v1_ListInstancesRequest__Output, _vessel_vm_v1_ListInstancesResponse__Output>
}
