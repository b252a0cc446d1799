/**
 * The home side of mimamori: the resident-day simulator and the
 * store-and-forward edge agent, the device adapters and bridge, and the
 * public recordings. Other folders import from here (docs/architecture.md).
 */
export { createRandom, type Random } from './random.js';
export {
  simulate, simulateStream, defaultProfile, homeDevices, matDevices, profileDevices, incidentTypes, defaultIncidentTypes,
  type HomeProfile, type SensorProfile, type TimeOfDay, type Incident, type IncidentSpec, type IncidentType,
  type SimulationOptions, type Simulation, type SimulationStream, type SimulatedDevice, type AbsenceSpec, type VisitSpec, type GapSpec,
} from './simulator.js';
export { addDays, localToEpoch, type LocalDate } from './local-days.js';
export { openDiskQueue, type DiskQueue, type DiskQueueOptions } from './disk-queue.js';
export { createMemoryQueue } from './memory-queue.js';
export { createEdgeAgent, type EdgeAgent, type EdgeAgentOptions } from './agent.js';
export { createHomeAgents, type HomeAgents, type HomeAgentsOptions } from './home-agents.js';
export { toDeviceMessage, type DeviceMessage } from './device-message.js';
export * from './adapters/index.js';
export { startLocalMosquitto, type LocalMosquitto } from './adapters/local-mosquitto.js';
export { bridgeReportPath, bridgeReportSchema, type BridgeReport, type DeliveredMapping } from './adapters/onboarding-report.js';
export { convertRecording, recordingDatasets, writeRecording, parseHomeSettings, type HomeSettings } from './recordings/index.js';
