# frozen_string_literal: true

require 'json'

module PuppetX
  module Mgmtgraph
    # The worker's JSON-lines protocol as mgmt-ts defines it: protocol.json beside this file, generated from
    # src/puppet/runtime/protocol.ts (`npm run docs`). The worker holds itself to it: its handlers must be exactly
    # the ops listed there, it reads only the request fields an op declares, and it writes only the reply fields an
    # op declares (plus `id` and `error`). A slip on this side is a Mismatch, answered as an error reply.
    class Protocol
      # This side and protocol.json disagree.
      class Mismatch < StandardError; end

      PATH = File.join(__dir__, 'protocol.json')

      def self.load(path = PATH)
        new(JSON.parse(File.read(path)))
      end

      # The marker the worker answers in place of a Sensitive value.
      attr_reader :redacted

      def initialize(doc)
        @ops = doc.fetch('ops')
        @reply_envelope = doc.fetch('reply_envelope')
        @redacted = doc.fetch('redacted')
      end

      # The op names, in the protocol's order.
      def ops
        @ops.keys
      end

      # Raises unless the worker's handlers are exactly the protocol's ops.
      def check_handlers!(names)
        missing = ops - names
        extra = names - ops
        return if missing.empty? && extra.empty?

        raise Mismatch, "the worker's ops differ from protocol.json: missing #{missing.inspect}, not declared #{extra.inspect}"
      end

      # The request's value of a field the op declares.
      def field(request, name)
        op = request['op']
        unless @ops.fetch(op).fetch('request').key?(name)
          raise Mismatch, "the worker reads #{name.inspect} of a #{op} request, which protocol.json does not declare"
        end

        request[name]
      end

      # The reply, once its fields are known to be the op's.
      def checked_reply(op, reply)
        undeclared = reply.keys - @reply_envelope - @ops.fetch(op).fetch('reply').keys
        return reply if undeclared.empty?

        raise Mismatch, "the worker's #{op} reply has fields protocol.json does not declare: #{undeclared.join(', ')}"
      end

      CURRENT = load
    end
  end
end
