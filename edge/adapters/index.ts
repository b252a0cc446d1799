/**
 * Real devices in real homes: ecosystem adapters (zigbee2mqtt, Shelly,
 * Tasmota, ECHONET Lite) that read native messages into facts, the device
 * roles that turn facts into canonical events, the device map, and the
 * bridge that forwards them through the edge agents. See docs/devices.md.
 */
export type { NativeFact, AdaptResult, AdaptRejectReason, MqttAdapter, NativeRoute } from './native-facts.js';
export { zigbee2mqttAdapter } from './zigbee2mqtt.js';
export { shellyAdapter } from './shelly.js';
export { tasmotaAdapter } from './tasmota.js';
export {
  ecosystems, parseDeviceMap, loadDeviceMap, deviceMapSchema, mappedDeviceSchema, checkMapEntry,
  type Ecosystem, type MapEntryInput, type MapEntryIssue, type MapEntryField, type DeviceMap, type DeviceMapInput, type MappedDevice,
} from './device-map.js';
export { deriveEvents, defaultKettleWatts, defaultFlowLitres, defaultActions, type EventBody, type RoleState, type Derived } from './device-roles.js';
export {
  createDeviceBridge,
  type DeviceBridge, type DeviceBridgeOptions, type BridgeStats, type BridgedDeviceStatus, type UnmappedDevice, type BridgeRejectReason,
} from './device-bridge.js';
