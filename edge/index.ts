/**
 * The home side of mimamori: the resident-day simulator and the
 * store-and-forward edge agent. Other folders import from here.
 */
export { createRandom, type Random } from './random.js';
export {
  simulate, simulateStream, defaultProfile, homeDevices, incidentTypes,
  type HomeProfile, type TimeOfDay, type Incident, type IncidentSpec, type IncidentType,
  type SimulationOptions, type Simulation, type SimulationStream, type SimulatedDevice,
} from './simulator.js';
export { openDiskQueue, type DiskQueue, type DiskQueueOptions } from './disk-queue.js';
export { createMemoryQueue } from './memory-queue.js';
export { createEdgeAgent, type EdgeAgent, type EdgeAgentOptions } from './agent.js';
export { createHomeAgents, type HomeAgents, type HomeAgentsOptions } from './home-agents.js';
export { toDeviceMessage, type DeviceMessage } from './device-message.js';
export * from './adapters/index.js';
