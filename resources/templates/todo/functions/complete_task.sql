-- Repeatable: `pgext migrate` (or `pgext deploy-functions`) re-runs this file whenever it
-- changes. Keep it idempotent (CREATE OR REPLACE).
CREATE OR REPLACE FUNCTION public.complete_task(task_id bigint)
RETURNS public.tasks
LANGUAGE sql
VOLATILE
SECURITY INVOKER -- runs as the caller, so the tasks RLS policy applies
AS $$
    UPDATE public.tasks
       SET done = true,
           completed_at = coalesce(completed_at, now())
     WHERE id = task_id
    RETURNING *;
$$;

COMMENT ON FUNCTION public.complete_task(bigint) IS 'Marks one of the caller''s tasks done; POST /rpc/complete_task {"task_id": 1}';
REVOKE EXECUTE ON FUNCTION public.complete_task(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.complete_task(bigint) TO todo_user;
