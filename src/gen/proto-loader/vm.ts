import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddDiskRequest as _vessel_vm_v1_AddDiskRequest, AddDiskRequest__Output as _vessel_vm_v1_AddDiskRequest__Output } from './vessel/vm/v1/AddDiskRequest.js';
import type { AddDiskResponse as _vessel_vm_v1_AddDiskResponse, AddDiskResponse__Output as _vessel_vm_v1_AddDiskResponse__Output } from './vessel/vm/v1/AddDiskResponse.js';
import type { AddFSRequest as _vessel_vm_v1_AddFSRequest, AddFSRequest__Output as _vessel_vm_v1_AddFSRequest__Output } from './vessel/vm/v1/AddFSRequest.js';
import type { AddFSResponse as _vessel_vm_v1_AddFSResponse, AddFSResponse__Output as _vessel_vm_v1_AddFSResponse__Output } from './vessel/vm/v1/AddFSResponse.js';
import type { AddNICRequest as _vessel_vm_v1_AddNICRequest, AddNICRequest__Output as _vessel_vm_v1_AddNICRequest__Output } from './vessel/vm/v1/AddNICRequest.js';
import type { AddNICResponse as _vessel_vm_v1_AddNICResponse, AddNICResponse__Output as _vessel_vm_v1_AddNICResponse__Output } from './vessel/vm/v1/AddNICResponse.js';
import type { BootEvent as _vessel_vm_v1_BootEvent, BootEvent__Output as _vessel_vm_v1_BootEvent__Output } from './vessel/vm/v1/BootEvent.js';
import type { ConsoleChunk as _vessel_vm_v1_ConsoleChunk, ConsoleChunk__Output as _vessel_vm_v1_ConsoleChunk__Output } from './vessel/vm/v1/ConsoleChunk.js';
import type { ConsoleRequest as _vessel_vm_v1_ConsoleRequest, ConsoleRequest__Output as _vessel_vm_v1_ConsoleRequest__Output } from './vessel/vm/v1/ConsoleRequest.js';
import type { CreateInstanceRequest as _vessel_vm_v1_CreateInstanceRequest, CreateInstanceRequest__Output as _vessel_vm_v1_CreateInstanceRequest__Output } from './vessel/vm/v1/CreateInstanceRequest.js';
import type { DeleteInstanceRequest as _vessel_vm_v1_DeleteInstanceRequest, DeleteInstanceRequest__Output as _vessel_vm_v1_DeleteInstanceRequest__Output } from './vessel/vm/v1/DeleteInstanceRequest.js';
import type { DeleteInstanceResponse as _vessel_vm_v1_DeleteInstanceResponse, DeleteInstanceResponse__Output as _vessel_vm_v1_DeleteInstanceResponse__Output } from './vessel/vm/v1/DeleteInstanceResponse.js';
import type { DeviceFailure as _vessel_vm_v1_DeviceFailure, DeviceFailure__Output as _vessel_vm_v1_DeviceFailure__Output } from './vessel/vm/v1/DeviceFailure.js';
import type { Disk as _vessel_vm_v1_Disk, Disk__Output as _vessel_vm_v1_Disk__Output } from './vessel/vm/v1/Disk.js';
import type { Error as _vessel_vm_v1_Error, Error__Output as _vessel_vm_v1_Error__Output } from './vessel/vm/v1/Error.js';
import type { ExecRequest as _vessel_vm_v1_ExecRequest, ExecRequest__Output as _vessel_vm_v1_ExecRequest__Output } from './vessel/vm/v1/ExecRequest.js';
import type { ExecResponse as _vessel_vm_v1_ExecResponse, ExecResponse__Output as _vessel_vm_v1_ExecResponse__Output } from './vessel/vm/v1/ExecResponse.js';
import type { ExecStart as _vessel_vm_v1_ExecStart, ExecStart__Output as _vessel_vm_v1_ExecStart__Output } from './vessel/vm/v1/ExecStart.js';
import type { ExecStarted as _vessel_vm_v1_ExecStarted, ExecStarted__Output as _vessel_vm_v1_ExecStarted__Output } from './vessel/vm/v1/ExecStarted.js';
import type { ExitStatus as _vessel_vm_v1_ExitStatus, ExitStatus__Output as _vessel_vm_v1_ExitStatus__Output } from './vessel/vm/v1/ExitStatus.js';
import type { GetInstanceRequest as _vessel_vm_v1_GetInstanceRequest, GetInstanceRequest__Output as _vessel_vm_v1_GetInstanceRequest__Output } from './vessel/vm/v1/GetInstanceRequest.js';
import type { InstanceClient as _vessel_vm_v1_InstanceClient, InstanceDefinition as _vessel_vm_v1_InstanceDefinition } from './vessel/vm/v1/Instance.js';
import type { InstanceConfig as _vessel_vm_v1_InstanceConfig, InstanceConfig__Output as _vessel_vm_v1_InstanceConfig__Output } from './vessel/vm/v1/InstanceConfig.js';
import type { InstanceEvent as _vessel_vm_v1_InstanceEvent, InstanceEvent__Output as _vessel_vm_v1_InstanceEvent__Output } from './vessel/vm/v1/InstanceEvent.js';
import type { InstanceInfo as _vessel_vm_v1_InstanceInfo, InstanceInfo__Output as _vessel_vm_v1_InstanceInfo__Output } from './vessel/vm/v1/InstanceInfo.js';
import type { ListInstancesRequest as _vessel_vm_v1_ListInstancesRequest, ListInstancesRequest__Output as _vessel_vm_v1_ListInstancesRequest__Output } from './vessel/vm/v1/ListInstancesRequest.js';
import type { ListInstancesResponse as _vessel_vm_v1_ListInstancesResponse, ListInstancesResponse__Output as _vessel_vm_v1_ListInstancesResponse__Output } from './vessel/vm/v1/ListInstancesResponse.js';
import type { ManagerClient as _vessel_vm_v1_ManagerClient, ManagerDefinition as _vessel_vm_v1_ManagerDefinition } from './vessel/vm/v1/Manager.js';
import type { Nic as _vessel_vm_v1_Nic, Nic__Output as _vessel_vm_v1_Nic__Output } from './vessel/vm/v1/Nic.js';
import type { Resize as _vessel_vm_v1_Resize, Resize__Output as _vessel_vm_v1_Resize__Output } from './vessel/vm/v1/Resize.js';
import type { SetCPUAndMemoryRequest as _vessel_vm_v1_SetCPUAndMemoryRequest, SetCPUAndMemoryRequest__Output as _vessel_vm_v1_SetCPUAndMemoryRequest__Output } from './vessel/vm/v1/SetCPUAndMemoryRequest.js';
import type { SetCPUAndMemoryResponse as _vessel_vm_v1_SetCPUAndMemoryResponse, SetCPUAndMemoryResponse__Output as _vessel_vm_v1_SetCPUAndMemoryResponse__Output } from './vessel/vm/v1/SetCPUAndMemoryResponse.js';
import type { Share as _vessel_vm_v1_Share, Share__Output as _vessel_vm_v1_Share__Output } from './vessel/vm/v1/Share.js';
import type { ShutdownRequest as _vessel_vm_v1_ShutdownRequest, ShutdownRequest__Output as _vessel_vm_v1_ShutdownRequest__Output } from './vessel/vm/v1/ShutdownRequest.js';
import type { ShutdownResponse as _vessel_vm_v1_ShutdownResponse, ShutdownResponse__Output as _vessel_vm_v1_ShutdownResponse__Output } from './vessel/vm/v1/ShutdownResponse.js';
import type { StartRequest as _vessel_vm_v1_StartRequest, StartRequest__Output as _vessel_vm_v1_StartRequest__Output } from './vessel/vm/v1/StartRequest.js';
import type { StartResponse as _vessel_vm_v1_StartResponse, StartResponse__Output as _vessel_vm_v1_StartResponse__Output } from './vessel/vm/v1/StartResponse.js';
import type { StreamRequest as _vessel_vm_v1_StreamRequest, StreamRequest__Output as _vessel_vm_v1_StreamRequest__Output } from './vessel/vm/v1/StreamRequest.js';
import type { StreamResponse as _vessel_vm_v1_StreamResponse, StreamResponse__Output as _vessel_vm_v1_StreamResponse__Output } from './vessel/vm/v1/StreamResponse.js';
import type { Timings as _vessel_vm_v1_Timings, Timings__Output as _vessel_vm_v1_Timings__Output } from './vessel/vm/v1/Timings.js';
import type { WatchRequest as _vessel_vm_v1_WatchRequest, WatchRequest__Output as _vessel_vm_v1_WatchRequest__Output } from './vessel/vm/v1/WatchRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  vessel: {
    vm: {
      v1: {
        AddDiskRequest: MessageTypeDefinition<_vessel_vm_v1_AddDiskRequest, _vessel_vm_v1_AddDiskRequest__Output>
        AddDiskResponse: MessageTypeDefinition<_vessel_vm_v1_AddDiskResponse, _vessel_vm_v1_AddDiskResponse__Output>
        AddFSRequest: MessageTypeDefinition<_vessel_vm_v1_AddFSRequest, _vessel_vm_v1_AddFSRequest__Output>
        AddFSResponse: MessageTypeDefinition<_vessel_vm_v1_AddFSResponse, _vessel_vm_v1_AddFSResponse__Output>
        AddNICRequest: MessageTypeDefinition<_vessel_vm_v1_AddNICRequest, _vessel_vm_v1_AddNICRequest__Output>
        AddNICResponse: MessageTypeDefinition<_vessel_vm_v1_AddNICResponse, _vessel_vm_v1_AddNICResponse__Output>
        BootEvent: MessageTypeDefinition<_vessel_vm_v1_BootEvent, _vessel_vm_v1_BootEvent__Output>
        ConsoleChunk: MessageTypeDefinition<_vessel_vm_v1_ConsoleChunk, _vessel_vm_v1_ConsoleChunk__Output>
        ConsoleRequest: MessageTypeDefinition<_vessel_vm_v1_ConsoleRequest, _vessel_vm_v1_ConsoleRequest__Output>
        CreateInstanceRequest: MessageTypeDefinition<_vessel_vm_v1_CreateInstanceRequest, _vessel_vm_v1_CreateInstanceRequest__Output>
        DeleteInstanceRequest: MessageTypeDefinition<_vessel_vm_v1_DeleteInstanceRequest, _vessel_vm_v1_DeleteInstanceRequest__Output>
        DeleteInstanceResponse: MessageTypeDefinition<_vessel_vm_v1_DeleteInstanceResponse, _vessel_vm_v1_DeleteInstanceResponse__Output>
        DeviceFailure: MessageTypeDefinition<_vessel_vm_v1_DeviceFailure, _vessel_vm_v1_DeviceFailure__Output>
        Disk: MessageTypeDefinition<_vessel_vm_v1_Disk, _vessel_vm_v1_Disk__Output>
        Error: MessageTypeDefinition<_vessel_vm_v1_Error, _vessel_vm_v1_Error__Output>
        ExecRequest: MessageTypeDefinition<_vessel_vm_v1_ExecRequest, _vessel_vm_v1_ExecRequest__Output>
        ExecResponse: MessageTypeDefinition<_vessel_vm_v1_ExecResponse, _vessel_vm_v1_ExecResponse__Output>
        ExecStart: MessageTypeDefinition<_vessel_vm_v1_ExecStart, _vessel_vm_v1_ExecStart__Output>
        ExecStarted: MessageTypeDefinition<_vessel_vm_v1_ExecStarted, _vessel_vm_v1_ExecStarted__Output>
        ExitStatus: MessageTypeDefinition<_vessel_vm_v1_ExitStatus, _vessel_vm_v1_ExitStatus__Output>
        GetInstanceRequest: MessageTypeDefinition<_vessel_vm_v1_GetInstanceRequest, _vessel_vm_v1_GetInstanceRequest__Output>
        Instance: SubtypeConstructor<typeof grpc.Client, _vessel_vm_v1_InstanceClient> & { service: _vessel_vm_v1_InstanceDefinition }
        InstanceConfig: MessageTypeDefinition<_vessel_vm_v1_InstanceConfig, _vessel_vm_v1_InstanceConfig__Output>
        InstanceEvent: MessageTypeDefinition<_vessel_vm_v1_InstanceEvent, _vessel_vm_v1_InstanceEvent__Output>
        InstanceInfo: MessageTypeDefinition<_vessel_vm_v1_InstanceInfo, _vessel_vm_v1_InstanceInfo__Output>
        ListInstancesRequest: MessageTypeDefinition<_vessel_vm_v1_ListInstancesRequest, _vessel_vm_v1_ListInstancesRequest__Output>
        ListInstancesResponse: MessageTypeDefinition<_vessel_vm_v1_ListInstancesResponse, _vessel_vm_v1_ListInstancesResponse__Output>
        Manager: SubtypeConstructor<typeof grpc.Client, _vessel_vm_v1_ManagerClient> & { service: _vessel_vm_v1_ManagerDefinition }
        NetworkMode: EnumTypeDefinition
        Nic: MessageTypeDefinition<_vessel_vm_v1_Nic, _vessel_vm_v1_Nic__Output>
        Resize: MessageTypeDefinition<_vessel_vm_v1_Resize, _vessel_vm_v1_Resize__Output>
        SetCPUAndMemoryRequest: MessageTypeDefinition<_vessel_vm_v1_SetCPUAndMemoryRequest, _vessel_vm_v1_SetCPUAndMemoryRequest__Output>
        SetCPUAndMemoryResponse: MessageTypeDefinition<_vessel_vm_v1_SetCPUAndMemoryResponse, _vessel_vm_v1_SetCPUAndMemoryResponse__Output>
        Share: MessageTypeDefinition<_vessel_vm_v1_Share, _vessel_vm_v1_Share__Output>
        ShutdownRequest: MessageTypeDefinition<_vessel_vm_v1_ShutdownRequest, _vessel_vm_v1_ShutdownRequest__Output>
        ShutdownResponse: MessageTypeDefinition<_vessel_vm_v1_ShutdownResponse, _vessel_vm_v1_ShutdownResponse__Output>
        StartRequest: MessageTypeDefinition<_vessel_vm_v1_StartRequest, _vessel_vm_v1_StartRequest__Output>
        StartResponse: MessageTypeDefinition<_vessel_vm_v1_StartResponse, _vessel_vm_v1_StartResponse__Output>
        State: EnumTypeDefinition
        StreamRequest: MessageTypeDefinition<_vessel_vm_v1_StreamRequest, _vessel_vm_v1_StreamRequest__Output>
        StreamResponse: MessageTypeDefinition<_vessel_vm_v1_StreamResponse, _vessel_vm_v1_StreamResponse__Output>
        Timings: MessageTypeDefinition<_vessel_vm_v1_Timings, _vessel_vm_v1_Timings__Output>
        WatchRequest: MessageTypeDefinition<_vessel_vm_v1_WatchRequest, _vessel_vm_v1_WatchRequest__Output>
      }
    }
  }
}

