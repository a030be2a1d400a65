using System.Reflection;
using Advisor.V1;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace Advisor.Server.Api;

/// <summary>
/// Binds every gRPC service the way Grpc.AspNetCore's own binder does (through the generated <c>BindService</c>),
/// but with request marshallers that turn bytes which are not a valid message (invalid UTF-8 in a string, a length
/// past the end, nesting past the parser's limit) into INVALID_ARGUMENT. The framework reads a unary request before
/// any interceptor runs and answers UNKNOWN "Exception was thrown by handler" for such bytes, which tells the caller
/// nothing and looks like a server bug. Registered in place of the framework's binder, so it covers every service.
/// Responses keep their generated marshallers, except ClassifyBuyer's: it is bound to
/// <see cref="AdvisorGrpcService.AnswerClassifyBuyer"/>, whose domain answer (<see cref="ClassifyBuyerAnswer"/>)
/// <see cref="PreEncodedResponses"/> writes as the bytes the generated serializer would write for the contract's
/// message, without building that message per call.
/// </summary>
public sealed class GuardedServiceMethodProvider<TService>(PreEncodedResponses responses) : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        for (var type = typeof(TService); type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is { } bind)
            {
                var method = bind.BindType.GetMethod(bind.BindMethodName, BindingFlags.Public | BindingFlags.Static, [typeof(ServiceBinderBase), type])
                    ?? throw new InvalidOperationException($"{bind.BindType} has no {bind.BindMethodName}(ServiceBinderBase, {type.Name}).");
                method.Invoke(null, [new Binder(context, responses), null]);
                return;
            }
        }
    }

    /// <summary>Wraps a request marshaller so malformed bytes end the call with INVALID_ARGUMENT.</summary>
    internal static Marshaller<T> Guard<T>(Marshaller<T> marshaller) => new(marshaller.ContextualSerializer, context =>
    {
        try
        {
            return marshaller.ContextualDeserializer(context);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The request is not a valid protobuf message: " + ex.Message));
        }
    });

    /// <summary>Receives the generated method table and adds each method with a guarded marshaller and a direct invoker.</summary>
    private sealed class Binder(ServiceMethodProviderContext<TService> context, PreEncodedResponses responses) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            var metadata = Metadata(method.Name, out var info, typeof(TRequest), typeof(ServerCallContext));
            if (typeof(TService) == typeof(AdvisorGrpcService) && method is Method<ClassifyBuyerRequest, ClassifyBuyerResponse> classify
                && classify.Name == nameof(AdvisorGrpcService.ClassifyBuyer))
            {
                // Same name, request marshaller and endpoint metadata (the contract method's attributes); the answer is
                // the domain's, written by its own marshaller.
                context.AddUnaryMethod(
                    new Method<ClassifyBuyerRequest, ClassifyBuyerAnswer>(classify.Type, classify.ServiceName, classify.Name, Guard(classify.RequestMarshaller), responses.ClassifyBuyerAnswers),
                    metadata,
                    static (service, request, callContext) => ((AdvisorGrpcService)(object)service).AnswerClassifyBuyer(request, callContext));
                return;
            }

            context.AddUnaryMethod(Guarded(method), metadata, Invoker<Grpc.AspNetCore.Server.Model.UnaryServerMethod<TService, TRequest, TResponse>>(info));
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddClientStreamingMethod(Guarded(method), Metadata(method.Name, out var info, typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext)),
                Invoker<Grpc.AspNetCore.Server.Model.ClientStreamingServerMethod<TService, TRequest, TResponse>>(info));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddServerStreamingMethod(Guarded(method), Metadata(method.Name, out var info, typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)),
                Invoker<Grpc.AspNetCore.Server.Model.ServerStreamingServerMethod<TService, TRequest, TResponse>>(info));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddDuplexStreamingMethod(Guarded(method), Metadata(method.Name, out var info, typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)),
                Invoker<Grpc.AspNetCore.Server.Model.DuplexStreamingServerMethod<TService, TRequest, TResponse>>(info));

        private Method<TRequest, TResponse> Guarded<TRequest, TResponse>(Method<TRequest, TResponse> method)
            where TRequest : class
            where TResponse : class =>
            new(method.Type, method.ServiceName, method.Name, Guard(method.RequestMarshaller), method.ResponseMarshaller);

        /// <summary>
        /// Finds the service's method (its override, or the generated base that answers UNIMPLEMENTED) and returns the
        /// endpoint metadata the framework gives: the service's and the method's attributes.
        /// </summary>
        private static List<object> Metadata(string name, out MethodInfo info, params Type[] parameters)
        {
            info = typeof(TService).GetMethod(name, BindingFlags.Public | BindingFlags.Instance, parameters)
                ?? throw new InvalidOperationException($"{typeof(TService)} has no method {name}.");
            return [.. typeof(TService).GetCustomAttributes(inherit: true), .. info.GetCustomAttributes(inherit: true)];
        }

        /// <summary>An open-instance delegate: the endpoint calls it on the service instance it activates per call.</summary>
        private static TDelegate Invoker<TDelegate>(MethodInfo info)
            where TDelegate : Delegate => (TDelegate)Delegate.CreateDelegate(typeof(TDelegate), info);
    }
}
