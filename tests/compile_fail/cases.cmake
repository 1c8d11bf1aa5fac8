# Each compile-time rule, its misuse, and what the diagnostics must say (every regex must match).
# Named levels print differently on g++ and clang, so the patterns stay to plain numbers.
capkit_compile_fail(quorum_n_zero "N \\(replicas per key\\) must be at least 1")
capkit_compile_fail(quorum_r_zero "R must be between 1 and N" "quorum_sizes<3U?, 0, 2>")
capkit_compile_fail(quorum_w_above_n "W must be between 1 and N" "quorum_sizes<3U?, 2, 4>")
capkit_compile_fail(quorum_named_level_above_n "R must be between 1 and N"
                    "quorum_sizes<1U?, 2, 1>")
capkit_compile_fail(quorum_level_not_a_count "R must be a number or a named level")
capkit_compile_fail(linearizable_without_overlap
                    "capkit::linearizable: read and write sets must overlap \\(R \\+ W > N\\)"
                    "quorum_rules<capkit::linearizable, 3U?, 1U?, 1U?>")
capkit_compile_fail(strong_without_overlap
                    "capkit::strong: read and write sets must overlap \\(R \\+ W > N\\)"
                    "quorum_rules<capkit::strong, 5U?, 2U?, 3U?>")
capkit_compile_fail(sloppy_with_strong "capkit::sloppy: a hint is not a replica a read can ask"
                    "handoff_rules<capkit::strong, capkit::sloppy>")
capkit_compile_fail(sloppy_with_linearizable "capkit::sloppy: a hint is not a replica a read can ask"
                    "handoff_rules<capkit::linearizable, capkit::sloppy>")
capkit_compile_fail(sloppy_with_serial "capkit::sloppy: a hint is not a replica a read can ask"
                    "handoff_rules<capkit::serial, capkit::sloppy>")
capkit_compile_fail(serial_without_majority "capkit::serial needs majority read and write quorums"
                    "quorum_rules<capkit::serial, 5U?, 2U?, 4U?>")
capkit_compile_fail(serial_with_crdt "need a totally ordered resolver \\(capkit::lww<>\\)"
                    "resolver_rules<capkit::serial, capkit::crdt_merge>")
capkit_compile_fail(crdt_merge_without_crdt MAX_BYTES 4096
                    "capkit::crdt_merge: the value type must model capkit::crdt")
capkit_compile_fail(two_policies_of_one_category "two policies of one category were given"
                    "two_policies_of_one_category<capkit::quorum<3U?, 2, 2>, capkit::quorum<5U?, 3, 3>")
capkit_compile_fail(not_a_policy "this type is not a capkit policy" "policy_check<int>")
capkit_compile_fail(linearizable_with_siblings
                    "need a totally ordered resolver \\(capkit::lww<>\\)"
                    "resolver_rules<capkit::linearizable, capkit::vector_clocks>")
capkit_compile_fail(per_request_level_without_overlap MAX_BYTES 4096
                    "this per-request read level asks too few replicas.*drop the per-request level"
                    "request_level_rules<capkit::linearizable, 3U?, 1U?, 2U?, true>")
capkit_compile_fail(update_level_without_overlap MAX_BYTES 4096
                    "this per-request write level asks too few replicas.*drop the per-request level"
                    "request_level_rules<capkit::strong, 3U?, 1U?, 2U?, false>")
# Through capkit::cluster, g++'s "required from" line names the cluster's transport, whose
# message variant alone takes about 2 KB: the sentence still comes first.
capkit_compile_fail(per_request_level_through_cluster MAX_BYTES 6144
                    "this per-request read level asks too few replicas.*drop the per-request level"
                    "request_level_rules<capkit::strong, 3U?, 1U?, 2U?, true>")
capkit_compile_fail(hash_ring_zero_virtual_nodes
                    "capkit::hash_ring: VirtualNodes must be at least 1"
                    "virtual_nodes_check<0U?>")
capkit_compile_fail(hash_ring_too_many_virtual_nodes
                    "capkit::hash_ring: VirtualNodes must be at most 65536"
                    "virtual_nodes_check<65537U?>")
capkit_compile_fail(hash_ring_with_dvv MAX_BYTES 4096
                    "capkit::hash_ring: a node that does not own a key may coordinate its writes")
capkit_compile_fail(any_without_sloppy "capkit::any acknowledges a write that only a hint holds")
capkit_compile_fail(any_as_read_level "capkit::any counts hints, which a read cannot ask")
capkit_compile_fail(transport_with_steady_clock MAX_BYTES 4096
                    "the transport's time_point must be capkit::time_point")
# A short first error, and nothing after it, for misuse a newcomer met (issue 16).
capkit_compile_fail(policy_in_key_slot MAX_BYTES 4096
                    "capkit::replica: the first argument is the key type, but a policy was given")
capkit_compile_fail(linearizable_with_dvv_in_cluster MAX_BYTES 4096
                    "need a totally ordered resolver \\(capkit::lww<>\\)"
                    "resolver_rules<capkit::linearizable, capkit::dvv>")
capkit_compile_fail(crdt_merge_of_strings_in_cluster MAX_BYTES 4096
                    "capkit::crdt_merge: the value type must model capkit::crdt")
# policy/ declares config's defaults without including the layers that define them (issue 17).
capkit_compile_fail(config_default_not_included
                    "a default policy .* is used but its header is not included")
# Both replicas hand each message to its own handler: a type without one does not compile (17).
capkit_compile_fail(message_without_handler
                    "a message type of the replica's message variant has no handler"
                    "message_handler_check<pong")
