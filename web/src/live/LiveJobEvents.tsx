import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  createContext,
  type ReactNode,
  useContext,
  useEffect,
  useState,
  useSyncExternalStore,
} from 'react';
import { unwrap } from '../api/client.ts';
import { useApi } from '../app/api-context.tsx';
import { useAuth } from '../app/auth.tsx';
import { applyJob, forgetJob, newerJob } from './cache.ts';
import { LiveJobs, socketUrl } from './live-jobs.ts';
import {
  isFinished,
  type Job,
  type SocketState,
  type Transport,
  type WebSocketClass,
} from './types.ts';

const LiveContext = createContext<LiveJobs | null>(null);

/** Without a provider (or signed out) screens poll, this often. */
const POLL_WITHOUT_PROVIDER_MS = 3_000;

export interface LiveJobEventsProps {
  children?: ReactNode;
  /** The WebSocket class; tests pass a fake. Defaults to the browser's. */
  WebSocket?: WebSocketClass | undefined;
  /** Defaults to /api/v1/ws on the page's origin. */
  url?: string;
  retryDelaysMs?: readonly number[];
  connectTimeoutMs?: number;
  pollMs?: number;
}

/**
 * Live job events for the whole app, mounted once: one socket while someone who may read jobs
 * is signed in; every event lands in the query cache (['job', id], ['jobs', …]).
 */
export function LiveJobEvents({
  children,
  WebSocket: socketClass = globalThis.WebSocket as WebSocketClass | undefined,
  url,
  retryDelaysMs,
  connectTimeoutMs,
  pollMs,
}: LiveJobEventsProps) {
  const api = useApi();
  const queryClient = useQueryClient();
  const { user, can } = useAuth();
  const enabled = Boolean(user && !user.must_change_password && can('jobs:read'));
  const scope = can('jobs:manage') ? 'all' : 'mine';
  const userId = user?.id;
  const [live, setLive] = useState<LiveJobs | null>(null);
  // An inline array is a new one on every render: compare the waits by value.
  const delaysKey = retryDelaysMs?.join(',');

  useEffect(() => {
    if (!enabled || userId === undefined) return;
    const instance = new LiveJobs({
      api,
      WebSocket: socketClass,
      url: url ?? socketUrl(),
      scope,
      onJob: (job) => applyJob(queryClient, job),
      ...(delaysKey ? { retryDelaysMs: delaysKey.split(',').map(Number) } : {}),
      ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
      ...(pollMs === undefined ? {} : { pollMs }),
    });
    instance.start();
    setLive(instance);
    return () => {
      instance.stop();
      setLive((current) => (current === instance ? null : current));
    };
  }, [
    enabled,
    userId,
    scope,
    api,
    queryClient,
    socketClass,
    url,
    delaysKey,
    connectTimeoutMs,
    pollMs,
  ]);

  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>;
}

const noSubscription = () => () => undefined;

/** The socket's state: lists poll while it is not open. */
export function useSocketState(): SocketState {
  const live = useContext(LiveContext);
  return useSyncExternalStore(
    live ? (listener) => live.subscribe(listener) : noSubscription,
    () => live?.socketState ?? 'off',
  );
}

/**
 * One job, kept current: loaded with GET /jobs/{id}, then updated by the socket, or by SSE or
 * polling when the socket cannot connect. `transport` says which.
 */
export function useJob(id: string | undefined) {
  const live = useContext(LiveContext);
  const { client } = useApi();
  const queryClient = useQueryClient();
  useEffect(() => (live && id ? live.watch(id) : undefined), [live, id]);
  const liveTransport = useSyncExternalStore(
    live ? (listener) => live.subscribe(listener) : noSubscription,
    () => (live && id ? live.transportOf(id) : null),
  );
  const query = useQuery({
    queryKey: ['job', id],
    enabled: Boolean(id),
    queryFn: async ({ signal }) => {
      const read = unwrap(
        await client.GET('/api/v1/jobs/{id}', { params: { path: { id: id ?? '' } }, signal }),
      );
      return newerJob(read, queryClient.getQueryData<Job>(['job', id]));
    },
    // Only without the live client: it polls by itself when the socket is down.
    refetchInterval: (current) =>
      !live && !isFinished(current.state.data?.status) ? POLL_WITHOUT_PROVIDER_MS : false,
  });
  const transport: Transport = liveTransport ?? 'polling';
  return {
    job: query.data,
    transport,
    error: query.error,
    isLoading: query.isLoading,
    refetch: query.refetch,
  };
}

/** Cancel, retry and delete, each putting the answer into the cache. */
export function useJobActions() {
  const { client } = useApi();
  const queryClient = useQueryClient();
  const cancel = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await client.POST('/api/v1/jobs/{id}/cancel', { params: { path: { id } } })),
    onSuccess: (job: Job) => applyJob(queryClient, job),
  });
  const retry = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await client.POST('/api/v1/jobs/{id}/retry', { params: { path: { id } } })),
    onSuccess: (job: Job) => applyJob(queryClient, job),
  });
  const remove = useMutation({
    mutationFn: async (id: string) => {
      const result = await client.DELETE('/api/v1/jobs/{id}', { params: { path: { id } } });
      if (!result.response.ok) unwrap(result);
      return id;
    },
    onSuccess: (id: string) => forgetJob(queryClient, id),
  });
  return { cancel, retry, remove };
}
